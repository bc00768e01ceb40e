/**
 * Runs the Imagga and Mailgun doubles as a standalone process, for trying the service by hand
 * and for benchmarks: `bun tests/doubles/serve.ts` (ports from IMAGGA_DOUBLE_PORT /
 * MAILGUN_DOUBLE_PORT, default 7701/7702; IMAGGA_DELAY_MS adds latency to every tagging call).
 */
import { startImaggaDouble } from "./imagga";
import { startMailgunDouble } from "./mailgun";

const imagga = startImaggaDouble({ port: Number(process.env.IMAGGA_DOUBLE_PORT ?? 7701) });
const mailgun = startMailgunDouble({ port: Number(process.env.MAILGUN_DOUBLE_PORT ?? 7702) });
imagga.faults.delayMs = Number(process.env.IMAGGA_DELAY_MS ?? 0);
console.log(
  JSON.stringify({
    IMAGGA_API_URL: imagga.url,
    IMAGGA_API_KEY: imagga.key,
    IMAGGA_API_SECRET: imagga.secret,
    MAILGUN_API_URL: mailgun.url,
    MAILGUN_API_KEY: mailgun.key,
    MAILGUN_DOMAIN: mailgun.domain,
  }),
);
setInterval(() => {
  const m = mailgun.messages.at(-1);
  if (m && Date.now() - m.at < 1000) console.log(`mail to=${m.to} subject=${JSON.stringify(m.subject)} ad=${m.adId}`);
}, 1000);

/**
 * Shows the one way a graceful stop can reset a client (tests/faults T8): Bun's
 * `server.stop(false)` closes connections it has accepted but not yet read a request from — they
 * count as idle — so a client whose request head arrives just after the stop sees ECONNRESET.
 * Requests already received complete. Run: `bun scripts/repro-stop-reset.ts`.
 */
import net from "node:net";

const server = Bun.serve({ port: 0, fetch: async () => (await Bun.sleep(50), new Response("ok")) });
const socket = net.connect(server.port!, "127.0.0.1");
await new Promise((r) => socket.on("connect", r));
const stopped = server.stop(false);
let answer = "";
socket.on("data", (d) => (answer += d.toString()));
const outcome = new Promise<string>((resolve) => {
  socket.on("error", (e) => resolve(`client error ${(e as { code?: string }).code}`));
  socket.on("close", () => resolve(answer ? `answered: ${answer.split("\r\n")[0]}` : "closed without an answer"));
});
await Bun.sleep(10);
socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
console.log(`Bun ${Bun.version}: a request sent 10 ms after stop(false) on an already-accepted connection → ${await outcome}`);
await stopped;

/** AMQP_URL node lists and AMQP_QUEUE_TYPE: parsing, validation, secret masking, what compose passes on. */
import { describe, expect, test } from "bun:test";
import { buildConsumer, buildPublisher } from "../../src/compose";
import { ConfigError, loadConfig, secretsOf, splitAmqpUrls } from "../../src/config";
import { AmqpConsumer, AmqpPublisher, NodeList } from "../../src/queue/amqp";
import { createLogger, silentLogger } from "../../src/platform/logger";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const LIST = "amqp://app:first-node-pw@mq-a.internal:5701,amqp://app:second-node-pw@mq-b.internal:5702/vhost, amqps://app:third%2Cnode-pw@mq-c.internal";

describe("AMQP_URL", () => {
  test("one URL or several full URLs separated by commas (spaces allowed, a comma in a password too)", () => {
    expect(splitAmqpUrls("amqp://u:p@h:5672")).toEqual(["amqp://u:p@h:5672"]);
    expect(splitAmqpUrls(LIST)).toEqual([
      "amqp://app:first-node-pw@mq-a.internal:5701",
      "amqp://app:second-node-pw@mq-b.internal:5702/vhost",
      "amqps://app:third%2Cnode-pw@mq-c.internal",
    ]);
    expect(splitAmqpUrls("amqp://u:pa,ss@h1,amqp://u:x@h2")).toEqual(["amqp://u:pa,ss@h1", "amqp://u:x@h2"]);
    const c = loadConfig({ AMQP_URL: LIST });
    expect(splitAmqpUrls(c.amqpUrl!)).toHaveLength(3);
    expect(new NodeList(c.amqpUrl!).urls).toHaveLength(3);
  });

  test.each([
    ["garbage"],
    ["http://mq.internal:5672"],
    ["amqp://"],
    ["amqp://h1,"],
    [",amqp://h1"],
    ["amqp://h1,,amqp://h2"],
    ["amqp://h1,garbage"],
    ["amqp://h1 amqp://h2"],
  ])("rejects %p with one clear problem that does not echo the value", (value) => {
    const p = problems({ AMQP_URL: value });
    expect(p).toEqual(["AMQP_URL must be an amqp:// or amqps:// URL, or several such URLs separated by commas"]);
  });

  test("every node's password is a secret: masked in logs", () => {
    const secrets = secretsOf(loadConfig({ AMQP_URL: LIST }));
    for (const s of ["first-node-pw", "second-node-pw", "third,node-pw", "third%2Cnode-pw"]) expect(secrets).toContain(s);
    const lines: string[] = [];
    const log = createLogger({ secrets, write: (l) => lines.push(l) });
    log.warn("broker connection error", { url: LIST, err: new Error(`connect failed for ${splitAmqpUrls(LIST)[1]}`) });
    expect(lines.join("\n")).not.toMatch(/first-node-pw|second-node-pw|third/);
  });
});

describe("AMQP_QUEUE_TYPE", () => {
  test("quorum by default (not explicit), quorum or classic when set, anything else is a problem", () => {
    expect([loadConfig({}).amqpQueueType, loadConfig({}).amqpQueueTypeExplicit]).toEqual(["quorum", false]);
    const q = loadConfig({ AMQP_QUEUE_TYPE: "quorum" });
    expect([q.amqpQueueType, q.amqpQueueTypeExplicit]).toEqual(["quorum", true]);
    const c = loadConfig({ AMQP_QUEUE_TYPE: "Classic" });
    expect([c.amqpQueueType, c.amqpQueueTypeExplicit]).toEqual(["classic", true]);
    expect(problems({ AMQP_QUEUE_TYPE: "stream" })).toEqual(["AMQP_QUEUE_TYPE must be quorum or classic"]);
  });

  test("compose hands the node list and the queue type to the publisher and the consumer", () => {
    const config = loadConfig({ AMQP_URL: LIST, AMQP_QUEUE: "jobs", AMQP_QUEUE_TYPE: "classic" });
    const pub = buildPublisher(config, silentLogger) as AmqpPublisher;
    const con = buildConsumer(config, silentLogger) as AmqpConsumer;
    expect(pub).toBeInstanceOf(AmqpPublisher);
    expect(con).toBeInstanceOf(AmqpConsumer);
    for (const x of [pub, con]) {
      const opts = (x as unknown as { opts: Record<string, unknown> }).opts;
      expect(opts).toMatchObject({ url: config.amqpUrl, queue: "jobs", queueType: "classic", queueTypeExplicit: true });
      expect(opts.retryDelaysMs).toBeUndefined();
      expect((x as unknown as { nodes: NodeList }).nodes.urls).toHaveLength(3);
    }
  });
});

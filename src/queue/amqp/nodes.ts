/**
 * The broker's node list, from a comma-separated AMQP_URL (a cluster's nodes): which node to
 * dial next, and failing over to the following one. Shared by the publisher and the consumer,
 * each of which keeps a list of its own.
 */
import amqp from "amqplib";
import { splitAmqpUrls } from "../../config";

/** `host:port` of a node URL (never its credentials), for logs. */
export function nodeLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === "amqps:" ? "5671" : "5672")}`;
  } catch {
    return "?";
  }
}

/**
 * The broker's nodes. amqplib takes one URL per connection, so connecting tries them in turn,
 * starting from a random one (copies of the service spread over the nodes) and moving on to the
 * next on failure; after a lost connection the next attempt starts at the following node.
 */
export class NodeList {
  readonly urls: string[];
  private next: number;

  constructor(url: string | readonly string[]) {
    this.urls = typeof url === "string" ? splitAmqpUrls(url) : url.flatMap((u) => splitAmqpUrls(u));
    if (!this.urls.length) throw new Error("no AMQP URL");
    this.next = Math.floor(Math.random() * this.urls.length);
  }

  async connect(timeoutMs: number): Promise<{ conn: amqp.ChannelModel; index: number; node: string }> {
    const errors: string[] = [];
    let last: unknown;
    for (let i = 0; i < this.urls.length; i++) {
      const index = (this.next + i) % this.urls.length;
      const url = this.urls[index]!;
      try {
        const conn = await amqp.connect(url, { timeout: timeoutMs });
        this.next = index;
        return { conn, index, node: nodeLabel(url) };
      } catch (err) {
        last = err;
        errors.push(`${nodeLabel(url)}: ${(err as Error).message}`);
      }
    }
    this.next = (this.next + 1) % this.urls.length;
    if (this.urls.length === 1) throw last;
    throw new Error(`no broker node answered (${errors.join("; ")})`, { cause: last });
  }

  /** The connection to node `index` was lost: the next attempt starts at the following node. */
  lost(index: number): void {
    if (this.next === index) this.next = (index + 1) % this.urls.length;
  }
}

/**
 * A TCP proxy in front of a real server, to cut the network to it on demand: while `down`, new
 * connections are closed at once and open ones are cut. Used to take S3 away from the service
 * under test without stopping the shared Ceph RGW.
 */
import type { Socket } from "bun";

/** Writes with backpressure: what the socket did not take waits for its `drain`. */
class Pipe {
  private pending: Uint8Array[] = [];
  constructor(public socket: Socket<unknown> | null = null) {}
  write(chunk: Uint8Array): void {
    if (!this.socket || this.pending.length) {
      this.pending.push(chunk);
      return;
    }
    const n = this.socket.write(chunk);
    if (n < chunk.byteLength) this.pending.push(chunk.subarray(Math.max(0, n)));
  }
  drain(): void {
    while (this.socket && this.pending.length) {
      const chunk = this.pending[0]!;
      const n = this.socket.write(chunk);
      if (n < chunk.byteLength) {
        this.pending[0] = chunk.subarray(Math.max(0, n));
        return;
      }
      this.pending.shift();
    }
  }
}

interface Pair {
  client: Socket<unknown>;
  toClient: Pipe;
  toUpstream: Pipe;
}

export function startTcpProxy(target: { host: string; port: number }) {
  let down = false;
  const pairs = new Set<Pair>();
  const server = Bun.listen<{ pair?: Pair }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      async open(client) {
        if (down) return void client.end();
        const pair: Pair = { client: client as Socket<unknown>, toClient: new Pipe(client as Socket<unknown>), toUpstream: new Pipe() };
        client.data = { pair };
        pairs.add(pair);
        try {
          const upstream = await Bun.connect({
            hostname: target.host,
            port: target.port,
            socket: {
              data: (_s, chunk) => pair.toClient.write(new Uint8Array(chunk)),
              drain: () => pair.toUpstream.drain(),
              close: () => void client.end(),
              error: () => void client.end(),
            },
          });
          pair.toUpstream.socket = upstream as Socket<unknown>;
          pair.toUpstream.drain();
        } catch {
          client.end();
        }
      },
      data(client, chunk) {
        client.data.pair?.toUpstream.write(new Uint8Array(chunk));
      },
      drain(client) {
        client.data.pair?.toClient.drain();
      },
      close(client) {
        const pair = client.data?.pair;
        if (!pair) return;
        pair.toUpstream.socket?.end();
        pairs.delete(pair);
      },
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    /** Cuts every open connection and refuses new ones until `up()`. */
    down() {
      down = true;
      for (const p of pairs) {
        p.client.end();
        p.toUpstream.socket?.end();
      }
      pairs.clear();
    },
    up() {
      down = false;
    },
    stop() {
      server.stop(true);
    },
  };
}

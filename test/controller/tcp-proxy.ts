/**
 * A TCP proxy for fault tests: forwards to a target port and can freeze the connections open at
 * that moment (they stay open but carry nothing more, like a half-open connection after a network
 * partition), while new connections pass normally.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Freezes every open connection; returns how many. */
  freeze(): number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 in front of `targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream, frozen: false };
    pairs.add(pair);
    client.on('data', (d: Buffer) => {
      if (!pair.frozen) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!pair.frozen) client.write(d);
    });
    const end = (): void => {
      if (pair.frozen) return;
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    freeze() {
      for (const p of pairs) p.frozen = true;
      return pairs.size;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

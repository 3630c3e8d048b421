// A TCP proxy on 127.0.0.1 that a test controls, in front of a real server (PostgreSQL, Redis): cut() drops every
// open connection at once, as a network failure or a server restart would; refuse() also stops listening, so that new
// connections are refused (ECONNREFUSED) until restore() listens again on the same port. The server behind never notices.
// Given several servers, it is a round-robin load balancer: connection n goes to server n mod count.
import { type Server, type Socket, connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far (to check that clients reconnected). */
  accepted: number;
  /** The index of the server the next connection goes to (round robin). */
  readonly next: number;
  /** Makes the next connection go to server `index` (round robin goes on from there). */
  sendNextTo(index: number): void;
  /** Destroys every open connection, both sides. */
  cut(): void;
  /** Stops passing the server's answers on (connections stay open, requests still arrive): a server that hangs. */
  stall(): void;
  /** Cuts, and refuses new connections until restore(). */
  refuse(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targets: { host: string; port: number } | { host: string; port: number }[]): Promise<TcpProxy> {
  const upstreams = Array.isArray(targets) ? targets : [targets];
  let turn = 0;
  const open = new Set<Socket>();
  const answers = new Map<Socket, Socket>();
  let stalled = false;
  const state = { accepted: 0 };
  const server: Server = createServer((client) => {
    state.accepted++;
    const target = upstreams[turn++ % upstreams.length];
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    if (!stalled) upstream.pipe(client);
    answers.set(upstream, client);
    upstream.on('close', () => answers.delete(upstream));
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const cut = () => {
    for (const socket of open) socket.destroy();
    open.clear();
  };
  return {
    port,
    get accepted() {
      return state.accepted;
    },
    get next() {
      return turn % upstreams.length;
    },
    sendNextTo(index) {
      turn = index;
    },
    cut,
    stall() {
      stalled = true;
      for (const [upstream, client] of answers) upstream.unpipe(client);
    },
    async refuse() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      cut();
      await closed;
    },
    restore: () => listen(port),
    close: async () => {
      cut();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

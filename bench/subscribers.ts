// Concurrent subscribers: N graphql-ws subscriptions (plain `ws` sockets speaking graphql-transport-ws, in a client
// process of their own: subscriber-clients.ts) each hold Subscription.voiceEvents on one session of a server process
// running the voice service over fake providers; a turn is started and every client times each of its events from
// the event's own `at` (server clock, same machine) to arrival. Server RSS and CPU via IPC.
import { type ChildProcess, fork } from 'node:child_process';
import { type BenchDatabase, prepareDatabase, size } from './dataset';
import { type ServerProcess, spawnBenchServer } from './server-process';
import { type LatencyStats, summarize } from './stats';
import type { ClientCommand, ClientReport, TurnShape } from './subscriber-clients';
import { type TcpFloorResult, measureTcpFloor } from './tcp-floor';
import type { FloorTurn } from './ws-floor-server';

export interface SubscriberResult {
  subscribers: number;
  connectSeconds: number;
  /** Server resident memory before any client, and with every client subscribed (after delivery). */
  rssIdleMiB: number;
  /** With every client subscribed, before the measured turn. */
  rssSubscribedMiB: number;
  rssMiB: number;
  /** Server CPU time spent during the measured turn, per delivered event. */
  serverCpuMicrosPerDelivery: number;
  /** The client process's CPU time during the measured turn, per delivered event (it shares the cores). */
  clientCpuMicrosPerDelivery?: number;
  events: number;
  deliveries: number;
  missing: number;
  delivery: LatencyStats;
  /** The same clients and fan-out against a bare ws server (no GraphQL): what the sockets alone cost here. */
  floor?: Omit<SubscriberResult, 'floor' | 'tcpFloor'>;
  /** The same turn's events sent by a C program as raw TCP frames (tcp-floor.ts): what the kernel alone costs here. */
  tcpFloor?: TcpFloorResult | { skipped: string };
}

const TURN = 'mutation Turn($input: VoiceTurnInput!) { voiceTurn(input: $input) { id sessionId status } }';

async function startTurn(url: string, sessionId: string | null): Promise<{ id: string; sessionId: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: TURN, variables: { input: { sessionId, text: 'How many open tickets do we have?' } } }),
  });
  const body = (await response.json()) as { data?: { voiceTurn: { id: string; sessionId: string } }; errors?: unknown };
  if (!body.data) throw new Error(`voiceTurn failed: ${JSON.stringify(body.errors)}`);
  return body.data.voiceTurn;
}

/** The client process, and a way to send it a command and wait for the report of the given type. */
function spawnClients(): { child: ChildProcess; ask<T extends ClientReport['type']>(command: ClientCommand, answer: T): Promise<Extract<ClientReport, { type: T }>> } {
  const child = fork('bench/subscriber-clients.ts', [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    child,
    ask: (command, answer) =>
      new Promise((resolve, reject) => {
        const onMessage = (report: ClientReport) => {
          if (report.type === 'failed') {
            child.off('message', onMessage);
            reject(new Error(`subscriber clients: ${report.message}`));
          } else if (report.type === answer) {
            child.off('message', onMessage);
            resolve(report as never);
          }
        };
        child.on('message', onMessage);
        child.send(command);
      }),
  };
}

/** What is being measured: the real server (turns through voiceTurn) or the bare ws floor (turns it is told to send). */
interface Target {
  server: ServerProcess;
  /** Starts the turn every subscriber gets as a replay; resolves with its id and session. */
  firstTurn(): Promise<{ id: string; sessionId: string }>;
  /** Starts the measured turn; resolves with its id. */
  nextTurn(sessionId: string): Promise<string>;
}

type Measured = Omit<SubscriberResult, 'floor' | 'tcpFloor'> & { shape: TurnShape };

async function measure({ server, firstTurn, nextTurn }: Target, count: number, log: (line: string) => void): Promise<Measured> {
  const rssIdle = (await server.stats()).rss;
  // A first turn creates the session; every subscriber's replay of it doubles as "my subscription is live".
  const first = await firstTurn();
  const clients = spawnClients();
  try {
    const wsUrl = server.url.replace(/^http/, 'ws');
    const { seconds: connectSeconds } = await clients.ask({ type: 'open', wsUrl, sessionId: first.sessionId, replayTurnId: first.id, count, batch: 200 }, 'subscribed');
    log(`subscribers ${count}: all subscribed in ${connectSeconds.toFixed(1)} s`);
    const rssSubscribed = (await server.stats()).rss;
    await clients.ask({ type: 'arm' }, 'armed');
    const cpuBefore = (await server.stats()).cpuMicros;
    const turnId = await nextTurn(first.sessionId);
    const measured = await clients.ask({ type: 'measure', turnId, timeoutMs: 60_000 }, 'measured');
    if (!measured.complete) log(`subscribers ${count}: not every client got the whole turn within 60 s`);
    const cpuAfter = (await server.stats()).cpuMicros;
    const rss = (await server.stats()).rss;
    const { latencies, perClient } = measured;
    const eventsPerTurn = Math.max(...perClient);
    return {
      subscribers: count,
      connectSeconds,
      rssIdleMiB: rssIdle / 2 ** 20,
      rssSubscribedMiB: rssSubscribed / 2 ** 20,
      rssMiB: rss / 2 ** 20,
      serverCpuMicrosPerDelivery: (cpuAfter - cpuBefore) / Math.max(1, latencies.length),
      clientCpuMicrosPerDelivery: measured.cpuMicros / Math.max(1, latencies.length),
      events: eventsPerTurn,
      deliveries: latencies.length,
      missing: eventsPerTurn * count - latencies.length,
      delivery: summarize(latencies),
      shape: measured.shape,
    };
  } finally {
    await clients.ask({ type: 'close' }, 'closed').catch(() => clients.child.kill());
  }
}

/** The bare ws floor: the same clients and frames, the measured turn's events at the same offsets, no GraphQL. */
async function measureFloor(count: number, shape: TurnShape, log: (line: string) => void): Promise<Measured> {
  const server = await spawnBenchServer([], 'bench/ws-floor-server.ts');
  const turn = (turnId: string, events: TurnShape): FloorTurn => ({ type: 'turn', turnId, sessionId: 'floor', events });
  try {
    return await measure(
      {
        server,
        firstTurn: async () => {
          server.child.send(turn('floor-replayed', shape.map((e) => ({ ...e, offsetMs: 0 }))));
          await new Promise((resolve) => setTimeout(resolve, 200));
          return { id: 'floor-replayed', sessionId: 'floor' };
        },
        nextTurn: async () => {
          server.child.send(turn('floor-measured', shape));
          return 'floor-measured';
        },
      },
      count,
      (line) => log(`floor: ${line}`),
    );
  } finally {
    await server.stop();
  }
}

export async function runSubscriberBench(options: {
  counts: number[];
  log: (line: string) => void;
  /** A benchmark database to use (kept by the caller); else a small one is made and dropped here. */
  database?: BenchDatabase;
}): Promise<SubscriberResult[]> {
  const bench = options.database ?? (await prepareDatabase(size(50, 'subscribers'), process.env.DATABASE_URL || undefined, options.log));
  const results: SubscriberResult[] = [];
  try {
    for (const count of options.counts) {
      // A fresh server per count, so its memory figure holds only these subscribers.
      const server = await spawnBenchServer(['--voice', ...(bench.url ? ['--url', bench.url] : ['--data-dir', bench.dataDir!])]);
      let api: Measured;
      try {
        api = await measure(
          { server, firstTurn: () => startTurn(server.url, null), nextTurn: async (sessionId) => (await startTurn(server.url, sessionId)).id },
          count,
          options.log,
        );
      } finally {
        await server.stop();
      }
      const { shape, ...result } = api;
      options.log(`subscribers ${count}: rss ${result.rssMiB.toFixed(0)} MiB, delivery p50 ${result.delivery.p50} ms p99 ${result.delivery.p99} ms`);
      const { shape: _, ...floor } = await measureFloor(count, shape, options.log);
      options.log(`floor: subscribers ${count}: rss ${floor.rssMiB.toFixed(0)} MiB, delivery p50 ${floor.delivery.p50} ms p99 ${floor.delivery.p99} ms`);
      const tcpFloor = await measureTcpFloor(count, shape.map((e) => e.offsetMs), options.log);
      results.push({ ...result, floor, tcpFloor });
    }
  } finally {
    if (!options.database) await bench.drop();
  }
  return results;
}

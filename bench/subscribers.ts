// Concurrent subscribers: N graphql-ws clients (in this process) each hold Subscription.voiceEvents on one session
// of a server process running the voice service over fake providers; a turn is started and every client times each
// of its events from the event's own `at` (server clock, same machine) to arrival. Server RSS via IPC.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type BenchDatabase, prepareDatabase, size } from './dataset';
import { type ServerProcess, spawnBenchServer } from './server-process';
import { type LatencyStats, summarize } from './stats';

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
  events: number;
  deliveries: number;
  missing: number;
  delivery: LatencyStats;
}

const SUBSCRIPTION = 'subscription Events($s: ID!) { voiceEvents(sessionId: $s) { __typename turnId seq at } }';
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

type Event = { __typename: string; turnId: string; seq: number; at: string };

async function measure(server: ServerProcess, count: number, log: (line: string) => void): Promise<SubscriberResult> {
  const rssIdle = (await server.stats()).rss;
  // A first turn creates the session; every subscriber's replay of it doubles as "my subscription is live".
  const first = await startTurn(server.url, null);
  const wsUrl = server.url.replace(/^http/, 'ws');
  const clients: Client[] = [];
  const received: { turnId: string; ms: number }[][] = [];
  const lastTurnDone = new Map<number, () => void>();
  let measuredTurn = '';
  const t0 = performance.now();
  const BATCH = 200;
  for (let start = 0; start < count; start += BATCH) {
    const ready: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      const mine: { turnId: string; ms: number }[] = [];
      received.push(mine);
      ready.push(
        new Promise<void>((resolve, reject) => {
          client.subscribe<{ voiceEvents: Event }>(
            { query: SUBSCRIPTION, variables: { s: first.sessionId } },
            {
              next: ({ data, errors }) => {
                if (errors) return reject(new Error(JSON.stringify(errors)));
                const event = data!.voiceEvents;
                if (event.turnId === first.id) {
                  if (event.__typename === 'TurnCompletedEvent') resolve();
                  return;
                }
                mine.push({ turnId: event.turnId, ms: Date.now() - Date.parse(event.at) });
                if (event.turnId === measuredTurn && event.__typename === 'TurnCompletedEvent') lastTurnDone.get(i)?.();
              },
              error: reject,
              complete: () => undefined,
            },
          );
        }),
      );
    }
    await Promise.all(ready);
  }
  const connectSeconds = (performance.now() - t0) / 1000;
  log(`subscribers ${count}: all subscribed in ${connectSeconds.toFixed(1)} s`);
  const rssSubscribed = (await server.stats()).rss;
  const cpuBefore = (await server.stats()).cpuMicros;
  const allDone = Promise.all(clients.map((_, i) => new Promise<void>((resolve) => lastTurnDone.set(i, resolve))));
  const turn = await startTurn(server.url, first.sessionId);
  measuredTurn = turn.id;
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000).unref());
  const outcome = await Promise.race([allDone, timeout]);
  if (outcome === 'timeout') log(`subscribers ${count}: not every client got the whole turn within 60 s`);
  const cpuAfter = (await server.stats()).cpuMicros;
  const rss = (await server.stats()).rss;
  const latencies = received.flatMap((events) => events.filter((e) => e.turnId === turn.id).map((e) => e.ms));
  const perClient = received.map((events) => events.filter((e) => e.turnId === turn.id).length);
  const eventsPerTurn = Math.max(...perClient);
  await Promise.all(clients.map((c) => c.dispose()));
  return {
    subscribers: count,
    connectSeconds,
    rssIdleMiB: rssIdle / 2 ** 20,
    rssSubscribedMiB: rssSubscribed / 2 ** 20,
    rssMiB: rss / 2 ** 20,
    serverCpuMicrosPerDelivery: (cpuAfter - cpuBefore) / Math.max(1, latencies.length),
    events: eventsPerTurn,
    deliveries: latencies.length,
    missing: eventsPerTurn * count - latencies.length,
    delivery: summarize(latencies),
  };
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
      try {
        const result = await measure(server, count, options.log);
        options.log(`subscribers ${count}: rss ${result.rssMiB.toFixed(0)} MiB, delivery p50 ${result.delivery.p50} ms p99 ${result.delivery.p99} ms`);
        results.push(result);
      } finally {
        await server.stop();
      }
    }
  } finally {
    if (!options.database) await bench.drop();
  }
  return results;
}

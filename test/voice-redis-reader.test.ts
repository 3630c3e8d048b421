// One Redis reader per instance for every follower of a turn running on another instance: many followers (live and
// late) get every event in order while the follower's instance holds a constant number of Redis connections; a follower
// that unsubscribes leaves the shared XREAD; a stream that expires ends its followers; and a lost Redis ends followers
// with a clear error, after which new follows work again. Two (or more) createSharedTurns on one real Redis, one prefix.
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { type EventLog, type Subscription, type VoiceEvent, createEventLog } from '../src/voice/events';
import { RemoteTurnLostError, type SharedTurns, createSharedTurns } from '../src/voice/redis-events';
import { REDIS_URL, redisHost, redisPort, redisSkipNote, redisUp } from './helpers/redis';
import { type TcpProxy, startTcpProxy } from './helpers/tcp-proxy';

const TENANT = 'tenant-1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until check() holds; fails naming what never happened (a bound against hanging, not a speed assertion). */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Followed {
  sub: Subscription;
  events: VoiceEvent[];
  /** Settles when the subscription ends: resolves on its end, rejects with the error it threw. */
  done: Promise<void>;
  outcome: { ended: boolean; error: Error | null };
}

function follow(shared: SharedTurns, turnId: string): Followed {
  const sub = shared.subscribe(TENANT, turnId);
  const events: VoiceEvent[] = [];
  const outcome = { ended: false, error: null as Error | null };
  const done = (async () => {
    try {
      for await (const e of sub) events.push(e);
      outcome.ended = true;
    } catch (error) {
      outcome.error = error as Error;
      throw error;
    }
  })();
  done.catch(() => undefined); // read through outcome
  return { sub, events, done, outcome };
}

describe.skipIf(!redisUp)(`one Redis reader per instance for followers of remote turns${redisSkipNote}`, () => {
  const prefix = `udc-test:${randomBytes(4).toString('hex')}`;
  const log = createLogger('silent');
  let admin: Redis;
  let eventLog: EventLog;
  const instances: SharedTurns[] = [];
  let a: SharedTurns;
  let b: SharedTurns;

  const start = async (name: string, options: { url?: string; readerBatchKeys?: number } = {}) => {
    const shared = await createSharedTurns({ url: options.url ?? REDIS_URL, prefix, retentionMs: 60_000, log, onAnnounce: () => undefined, connectionName: `${prefix}:${name}`, readerBatchKeys: options.readerBatchKeys });
    instances.push(shared);
    return shared;
  };

  /** Redis's CLIENT LIST lines of the connections named for an instance. */
  async function clientsOf(name: string): Promise<string[]> {
    const list = (await admin.client('LIST')) as string;
    return list.split('\n').filter((line) => line.match(/ name=(\S*) /)?.[1] === `${prefix}:${name}`);
  }
  /** Redis's own count of the connections named for an instance. */
  const connectionsOf = async (name: string) => (await clientsOf(name)).length;
  const addressesOf = async (name: string) => (await clientsOf(name)).map((line) => line.match(/ addr=(\S+) /)![1]);

  /** A turn "running on A": events appended to A's local log and mirrored to Redis; `written` is what A produced. */
  function remoteTurn() {
    const turnId = randomUUID();
    const writer = a.mirror(eventLog.openTurn(TENANT, `s-${turnId.slice(0, 8)}`, turnId), TENANT, turnId);
    const written: VoiceEvent[] = [];
    let n = 0;
    return {
      turnId,
      written,
      say() {
        n++;
        // Every tenth event is audio-sized, as turns are.
        const event =
          n % 10 === 0
            ? writer.append({ type: 'AudioChunkEvent', index: n, mimeType: 'audio/wav', sampleRate: 16000, data: randomBytes(6000).toString('base64'), text: `chunk ${n}` })
            : writer.append({ type: 'ResponseTextEvent', text: `sentence ${n} of ${turnId}` });
        written.push(event!);
      },
      end() {
        written.push(writer.append({ type: 'TurnCompletedEvent', responseText: 'done', timings: { sttMs: null, agentMs: 1, firstAudioMs: 2, totalMs: 3 } })!);
      },
    };
  }

  beforeAll(async () => {
    admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    admin.on('error', () => undefined);
    await admin.connect();
    eventLog = createEventLog({ retentionMs: 60_000 });
    a = await start('A');
    b = await start('B');
  });

  afterAll(async () => {
    for (const shared of instances) await shared.close();
    eventLog?.close();
    if (admin) {
      const keys: string[] = [];
      for (let cursor = '0'; ; ) {
        const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
        if (cursor === '0') break;
      }
      if (keys.length) await admin.del(...keys);
      await admin.quit();
    }
  });

  it('serves 200 followers on B of turns running on A, live and late, in order, over a constant number of connections', async () => {
    const baseline = await connectionsOf('B');
    expect(baseline).toBeGreaterThan(0);
    expect(baseline).toBeLessThanOrEqual(3);

    const turns = Array.from({ length: 10 }, () => remoteTurn());
    for (const t of turns) t.say();
    await a.flushed();
    for (const t of turns) expect(await b.hasTurn(TENANT, t.turnId)).toBe(true);

    // Live: 10 followers per turn while it runs, each from the first event.
    const live = turns.flatMap((t) => Array.from({ length: 10 }, () => ({ turn: t, f: follow(b, t.turnId) })));
    await until(() => live.every(({ f }) => f.events.length >= 1), 'every live follower to get the first event');
    expect(await connectionsOf('B')).toBe(baseline);

    // More than one XREAD's COUNT per turn, interleaved across turns, written while the followers read.
    for (let i = 0; i < 120; i++) {
      for (const t of turns) t.say();
      if (i % 20 === 0) {
        await a.flushed();
        expect(await connectionsOf('B')).toBe(baseline);
      }
    }
    for (const t of turns) t.end();
    await a.flushed();

    // Late: 10 more per turn once it has ended, replayed from the first event.
    const late = turns.flatMap((t) => Array.from({ length: 10 }, () => ({ turn: t, f: follow(b, t.turnId) })));
    expect(await connectionsOf('B')).toBe(baseline);
    const all = [...live, ...late];
    expect(all).toHaveLength(200);
    await Promise.all(all.map(({ f }) => f.done));
    for (const { turn, f } of all) {
      expect(f.outcome).toEqual({ ended: true, error: null });
      expect(f.events.length).toBe(turn.written.length);
      expect(f.events).toEqual(turn.written);
    }
    expect(await connectionsOf('B')).toBe(baseline);
    expect(await connectionsOf('B')).toBeLessThanOrEqual(3);
  });

  it('reads in several batches when more streams are followed than one XREAD takes, still in order', async () => {
    const c = await start('C', { readerBatchKeys: 3 });
    const turns = Array.from({ length: 10 }, () => remoteTurn());
    for (const t of turns) t.say();
    await a.flushed();
    const followers = turns.flatMap((t) => [{ turn: t, f: follow(c, t.turnId) }, { turn: t, f: follow(c, t.turnId) }]);
    for (let i = 0; i < 80; i++) for (const t of turns) t.say();
    for (const t of turns) t.end();
    await a.flushed();
    await Promise.all(followers.map(({ f }) => f.done));
    for (const { turn, f } of followers) expect(f.events).toEqual(turn.written);
    expect(await connectionsOf('C')).toBeLessThanOrEqual(3);
  });

  it('stops a follower that unsubscribes early, and its stream leaves the shared XREAD', async () => {
    const x = remoteTurn();
    const y = remoteTurn();
    x.say();
    y.say();
    await a.flushed();
    const leaving = follow(b, x.turnId);
    const staying = follow(b, y.turnId);
    await until(() => leaving.events.length === 1 && staying.events.length === 1, 'both followers to get their first event');

    // Watch what B's connections send from here on (Redis's view, not the reader's).
    const bAddresses = new Set(await addressesOf('B'));
    const monitor = await admin.monitor();
    monitor.on('error', () => undefined);
    const reads: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (bAddresses.has(source) && args[0]?.toUpperCase() === 'XREAD') reads.push(args);
    });
    const xKey = `${prefix}:${TENANT}:turn:${x.turnId}`;
    const yKey = `${prefix}:${TENANT}:turn:${y.turnId}`;
    try {
      await leaving.sub.return();
      await leaving.done;
      expect(leaving.outcome).toEqual({ ended: true, error: null });
      // B reads again without X's stream (the unsubscribe wakes the reader), still with Y's; and never X's again.
      await until(() => reads.some((args) => args.includes(yKey) && !args.includes(xKey)), "an XREAD of B's that reads Y without X");
      const removedAt = reads.findIndex((args) => args.includes(yKey) && !args.includes(xKey));
      for (let i = 0; i < 5; i++) {
        x.say();
        y.say();
      }
      x.end();
      y.end();
      await a.flushed();
      await staying.done;
      expect(reads.slice(removedAt).filter((args) => args.includes(xKey))).toEqual([]);
    } finally {
      await monitor.disconnect();
    }
    expect(staying.events).toEqual(y.written);
    expect(leaving.events).toEqual(x.written.slice(0, 1));
    expect(await leaving.sub.next()).toEqual({ done: true, value: undefined });
  });

  it('holds back a follower whose client does not read, and gives it everything, in order, once it does', async () => {
    const t = remoteTurn();
    t.say();
    await a.flushed();
    const sub = b.subscribe(TENANT, t.turnId);
    const first = await sub.next(); // joined; then nothing is taken while far more than one XREAD's worth is written
    for (let i = 0; i < 300; i++) t.say();
    t.end();
    await a.flushed();
    const events = [first.value as VoiceEvent];
    for await (const e of sub) events.push(e);
    expect(events).toEqual(t.written);
  });

  it('still serves followers on a Redis that refuses CLIENT ID and CLIENT UNBLOCK (short blocks instead)', async () => {
    const user = `${prefix.replace(/:/g, '-')}-limited`; // a plain name: ioredis does not decode a URL's user name
    await admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-client|id', '-client|unblock');
    try {
      const url = new URL(REDIS_URL);
      url.username = user;
      url.password = 'secret';
      const warnings: string[] = [];
      const limited = await createSharedTurns({ url: url.toString(), prefix, retentionMs: 60_000, log: createLogger('warn', (line) => warnings.push(line)), onAnnounce: () => undefined, connectionName: `${prefix}:E` });
      instances.push(limited);
      const turns = [remoteTurn(), remoteTurn()];
      for (const t of turns) t.say();
      await a.flushed();
      const early = follow(limited, turns[0].turnId);
      await until(() => early.events.length === 1, 'the first follower to get its first event');
      const joining = follow(limited, turns[1].turnId); // joins while the reader blocks on the first stream
      for (const t of turns) {
        t.say();
        t.end();
      }
      await a.flushed();
      await Promise.all([early.done, joining.done]);
      expect(early.events).toEqual(turns[0].written);
      expect(joining.events).toEqual(turns[1].written);
      expect(warnings.join('')).toContain('refuses CLIENT ID/UNBLOCK');
    } finally {
      await admin.call('ACL', 'DELUSER', user);
    }
  });

  it('ends a follower whose stream expires without a terminal event (its writer died), as before', async () => {
    const t = remoteTurn();
    t.say();
    t.say();
    await a.flushed();
    const f = follow(b, t.turnId);
    await until(() => f.events.length === 2, 'the follower to get both events');
    await admin.del(`${prefix}:${TENANT}:turn:${t.turnId}`); // what expiry does
    await until(() => f.outcome.ended || f.outcome.error !== null, 'the follower of an expired stream to end');
    expect(f.outcome).toEqual({ ended: true, error: null });
    expect(f.events).toEqual(t.written);
  });

  // /ready asks this ping. A subscribed listener cannot answer a PING at once, so its state is checked instead.
  it('is not ready while its announcement listener reconnects, though its command connection answers', async () => {
    const r = await start('R');
    await expect(r.ping()).resolves.toBeUndefined();
    const listeners = (await clientsOf('R')).filter((line) => / sub=[1-9]/.test(line));
    expect(listeners).toHaveLength(1);
    await admin.client('KILL', 'ID', listeners[0].match(/^id=(\d+)/)![1]);
    // ioredis waits at least 50 ms before it reconnects: the poll sees that window.
    const state = () => r.ping().then(() => 'ready', (error: Error) => error.message);
    await expect.poll(state, { timeout: 5_000, interval: 5 }).toMatch(/^voice turn announcements: Redis connection is /);
    await expect.poll(state, { timeout: 10_000, interval: 50 }).toBe('ready');
  });

  describe('Redis lost and back', () => {
    let proxy: TcpProxy;
    let d: SharedTurns;

    beforeAll(async () => {
      proxy = await startTcpProxy({ host: redisHost, port: redisPort });
      d = await start('D', { url: `redis://127.0.0.1:${proxy.port}` });
    });
    afterAll(async () => {
      // D before its proxy, so that it closes at once rather than after failed reconnections.
      if (d) {
        instances.splice(instances.indexOf(d), 1);
        await d.close();
      }
      await proxy?.close();
    });

    it('ends its followers with a clear error within a bounded time, and follows again once Redis is back', async () => {
      const turns = Array.from({ length: 4 }, () => remoteTurn());
      for (const t of turns) {
        t.say();
        t.say();
      }
      await a.flushed();
      const followers = turns.flatMap((t) => Array.from({ length: 5 }, () => ({ turn: t, f: follow(d, t.turnId) })));
      await until(() => followers.every(({ f }) => f.events.length === 2), 'every follower to get the first two events');

      await proxy.refuse();
      await until(() => followers.every(({ f }) => f.outcome.ended || f.outcome.error !== null), 'every follower to end or fail after Redis was lost');
      for (const { f, turn } of followers) {
        // Whatever it had is delivered, in order, then a message a client can act on.
        expect(f.events).toEqual(turn.written);
        expect(f.outcome.error).toBeInstanceOf(RemoteTurnLostError);
        expect(f.outcome.error?.message).toMatch(/^Lost the connection to Redis while following turn .+; subscribe again in a moment\.$/);
      }

      // The turns go on (A still reaches Redis) and end while D cannot see them.
      for (const t of turns) {
        t.say();
        t.end();
      }
      await a.flushed();
      await proxy.restore();

      // D reconnects by itself: a new follow replays each turn from its first event to its end.
      await until(
        async () => {
          try {
            return await d.hasTurn(TENANT, turns[0].turnId);
          } catch {
            return false;
          }
        },
        'D to reach Redis again',
      );
      const again = turns.map((t) => ({ turn: t, f: follow(d, t.turnId) }));
      await Promise.all(again.map(({ f }) => f.done));
      for (const { turn, f } of again) expect(f.events).toEqual(turn.written);
      expect(await connectionsOf('D')).toBeLessThanOrEqual(3);
    });
  });
});

// Sharing voice turns between server instances through Redis: each turn's events are mirrored, in order, into a Redis
// stream (kept for the retention window), so a client whose subscription lands on another instance still gets the
// whole turn from its first event, then live; and a new turn announces itself so the instance running the session's
// previous turn interrupts it (barge-in across instances). Every follower of a remote turn is served by one reader per
// instance (one Redis connection, one XREAD loop over all followed streams), so an instance holds three Redis
// connections however many clients follow turns through it.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { UnavailableError } from '../errors';
import type { Logger } from '../logger';
import { assertConnected, pingRedis } from './redis-ping';
import { type Subscription, TERMINAL_EVENTS, type TurnWriter, type VoiceEvent } from './events';

export interface SharedTurns {
  /** Wraps a local writer so every appended event is also written to the turn's stream, in order. */
  mirror(writer: TurnWriter, tenantId: string, turnId: string): TurnWriter;
  /** Whether another instance has (or recently had) this turn. */
  hasTurn(tenantId: string, turnId: string): Promise<boolean>;
  /** A turn's events from its first, then live until its terminal event, read from its stream. */
  subscribe(tenantId: string, turnId: string): Subscription;
  /** Tells every instance that a turn started on a session (they interrupt their running turn of it). */
  announce(tenantId: string, sessionId: string, turnId: string): Promise<void>;
  /** Asks every instance to cancel a turn (the one running it does). */
  cancel(tenantId: string, sessionId: string, turnId: string): Promise<void>;
  /** Resolves when every mirrored event so far is in Redis (tests, shutdown). */
  flushed(): Promise<void>;
  /** Rejects when one of its Redis connections is down or does not answer a PING within `timeoutMs` (readiness). */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface SharedTurnsOptions {
  url: string;
  /** Key prefix, so several deployments (or test files) can share one Redis. */
  prefix?: string;
  retentionMs: number;
  log: Logger;
  /** Called when another instance started a turn on a session. */
  onAnnounce: (tenantId: string, sessionId: string, turnId: string) => void;
  /** Called when another instance was asked to cancel a turn. */
  onCancel?: (tenantId: string, sessionId: string, turnId: string) => void;
  /** CLIENT SETNAME of this instance's connections (seen in CLIENT LIST); default `<prefix>:<random id>`. */
  connectionName?: string;
  /** At most this many streams per XREAD; more are read in several non-blocking XREADs, polled (default 1000). */
  readerBatchKeys?: number;
}

/** Thrown to a follower of a remote turn when Redis is lost (or hangs): subscribing again once it is back works. */
export class RemoteTurnLostError extends UnavailableError {
  constructor(readonly turnId: string) {
    super(`Lost the connection to Redis while following turn ${turnId}, which runs on another server instance; subscribe again in a moment.`);
    this.name = 'RemoteTurnLostError';
  }
}

/** A stream with no terminal event (its writer died) still expires after this long. */
const ABANDONED_TTL_MS = 60 * 60_000;

export async function createSharedTurns(options: SharedTurnsOptions): Promise<SharedTurns> {
  const prefix = options.prefix ?? 'udc:voice';
  const instance = randomUUID();
  // Named, so an operator (and the tests) can count an instance's connections with CLIENT LIST; no spaces allowed.
  const connectionName = (options.connectionName ?? `${prefix}:${instance.slice(0, 8)}`).replace(/\s/g, '_');
  const redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName });
  // ioredis reconnects by itself; its 'error' events only need a listener (else it prints each one to the console).
  const logLost = (error: Error) => options.log.warn('voice: Redis connection error; reconnecting', { error: error.message });
  redis.on('error', logLost);
  const listener = redis.duplicate();
  listener.on('error', logLost);
  const streams = redis.duplicate();
  streams.on('error', logLost);
  await redis.connect();
  await listener.connect();
  await streams.connect();
  const channel = `${prefix}:turns`;
  const key = (tenantId: string, turnId: string) => `${prefix}:${tenantId}:turn:${turnId}`;
  const pending = new Set<Promise<unknown>>();

  await listener.subscribe(channel);
  listener.on('message', (_channel: string, message: string) => {
    try {
      const m = JSON.parse(message) as { instance: string; tenantId: string; sessionId: string; turnId: string; cancel?: boolean };
      if (m.instance === instance) return;
      if (m.cancel) options.onCancel?.(m.tenantId, m.sessionId, m.turnId);
      else options.onAnnounce(m.tenantId, m.sessionId, m.turnId);
    } catch {
      // not ours
    }
  });

  const reader = createStreamReader({ connection: streams, command: redis, log: options.log, batchKeys: options.readerBatchKeys ?? 1000 });

  return {
    mirror(writer, tenantId, turnId) {
      const k = key(tenantId, turnId);
      // One promise chain per turn keeps XADDs in append order without blocking the pipeline.
      let chain: Promise<unknown> = Promise.resolve();
      const enqueue = (op: () => Promise<unknown>) => {
        chain = chain.then(op).catch((error: unknown) => options.log.warn('voice: could not mirror an event to Redis', { turnId, error: (error as Error).message }));
        pending.add(chain);
        const current = chain;
        void current.finally(() => pending.delete(current));
      };
      return {
        get ended() {
          return writer.ended;
        },
        append(body) {
          const event = writer.append(body);
          if (event) {
            const terminal = TERMINAL_EVENTS.has(event.type);
            enqueue(() =>
              redis
                .multi()
                .xadd(k, '*', 'e', JSON.stringify(event))
                .pexpire(k, terminal ? options.retentionMs : ABANDONED_TTL_MS)
                .exec(),
            );
          }
          return event;
        },
      };
    },

    async hasTurn(tenantId, turnId) {
      return (await redis.exists(key(tenantId, turnId))) === 1;
    },

    subscribe(tenantId, turnId) {
      return reader.follow(key(tenantId, turnId), turnId);
    },

    async announce(tenantId, sessionId, turnId) {
      await redis.publish(channel, JSON.stringify({ instance, tenantId, sessionId, turnId }));
    },

    async cancel(tenantId, sessionId, turnId) {
      await redis.publish(channel, JSON.stringify({ instance, tenantId, sessionId, turnId, cancel: true }));
    },

    async ping(timeoutMs = 1000) {
      // The listener (subscribed) and the stream reader (blocked in XREAD) cannot answer a PING at once: their state says.
      assertConnected(listener, 'voice turn announcements');
      assertConnected(streams, 'voice turn streams');
      await pingRedis(redis, 'voice turn events', timeoutMs);
    },

    async flushed() {
      while (pending.size) await Promise.allSettled([...pending]);
    },

    async close() {
      while (pending.size) await Promise.allSettled([...pending]);
      await reader.close();
      await listener.quit().catch(() => listener.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Entries asked for per stream and XREAD; also how many unread events a follower may hold before it is left out of reads. */
const READ_COUNT = 64;
/** How long one XREAD waits for new entries; a new follower does not wait for it to end (CLIENT UNBLOCK). */
const BLOCK_MS = 5000;
/** The block instead, on a Redis that refuses CLIENT ID/UNBLOCK (some managed ones): how long a new follower may wait. */
const SHORT_BLOCK_MS = 250;
/** With more streams than one XREAD takes, how often the batches are read again when nothing came. */
const POLL_MS = 100;
/** A read still unanswered this long after it was sent means a Redis that hangs: its followers fail, the socket is reset. */
const STALL_MS = BLOCK_MS + 10_000;

/** One client's follow of one remote turn: its own position in the stream and the events read for it, not yet taken. */
interface Follower {
  key: string;
  turnId: string;
  /** Id of the last stream entry handed to this follower ('0': replay from the first). */
  lastId: string;
  buffer: VoiceEvent[];
  /** Read no more: its terminal event arrived, its stream expired, Redis was lost, the reader closed or it stopped. */
  done: boolean;
  /** Thrown to the client once the buffer is drained. */
  failure: Error | null;
  /** The client unsubscribed (return()). */
  stopped: boolean;
  /** Left out of reads until its client takes some of its buffer (a slow client must not grow memory without bound). */
  paused: boolean;
  /** When it last got an entry, or joined: streams quiet for a whole block are checked for expiry. */
  heardAt: number;
  /** Wakes the client's pending next(). */
  notify: (() => void) | null;
}

interface StreamReader {
  follow(key: string, turnId: string): Subscription;
  close(): Promise<void>;
}

type XReadReply = [key: string, entries: [id: string, fields: string[]][]][];

/** Whether stream id a (ms-seq) comes after b. */
function after(a: string, b: string): boolean {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  return am !== bm ? Number(am) > Number(bm) : Number(as) > Number(bs);
}

const revive = (json: string): VoiceEvent => {
  const e = JSON.parse(json) as VoiceEvent & { at: string };
  return { ...e, at: new Date(e.at) };
};

/**
 * The instance's one reader of remote turns: a loop of XREAD BLOCK over every stream some follower reads (each stream
 * from the earliest position among its followers), handing each follower the entries after its own last id, in order.
 * `connection` is used by this loop alone; `command` (the shared command connection) sends CLIENT UNBLOCK to it when
 * the set of streams changes, so a new follower joins the next XREAD without waiting for the block to end.
 */
function createStreamReader(deps: { connection: Redis; command: Redis; log: Logger; batchKeys: number }): StreamReader {
  const { connection, command, log } = deps;
  const batchKeys = Math.max(1, deps.batchKeys);
  /** Followers still reading, by stream key. */
  const followers = new Map<string, Set<Follower>>();
  let closing = false;
  /** Counts reads: a CLIENT UNBLOCK retried for a read that has already ended stops. */
  let generation = 0;
  /** A blocking XREAD is in flight (generation tells which). */
  let blocked = false;
  let unblocking = false;
  /** The connection's CLIENT ID (for CLIENT UNBLOCK); null until asked again after a reconnection. */
  let clientId: number | null = null;
  /** False on a Redis that refuses CLIENT ID or UNBLOCK: reads then block briefly, so new followers join soon anyway. */
  let canUnblock = true;
  const refused = (error: unknown) => (error as Error)?.name === 'ReplyError';
  const cannotUnblock = (error: unknown) => {
    canUnblock = false;
    log.warn(`voice: Redis refuses CLIENT ID/UNBLOCK; remote turns are read with a ${SHORT_BLOCK_MS} ms block instead`, { error: (error as Error).message });
  };
  /** Resolves the loop's wait when it has nothing to read (or between polls). */
  let idle: (() => void) | null = null;
  let lastExpiryCheck = Date.now();
  connection.on('close', () => {
    clientId = null;
  });

  const notify = (f: Follower) => {
    const n = f.notify;
    f.notify = null;
    n?.();
  };

  /** Takes a follower out of the read set (with an error to throw once its buffer is drained, if any). */
  function finish(f: Follower, failure: Error | null = null) {
    if (f.done) return;
    f.done = true;
    f.failure = failure;
    const group = followers.get(f.key);
    group?.delete(f);
    if (group?.size === 0) followers.delete(f.key);
    notify(f);
  }

  /** Makes the loop build its read set again now: ends its idle wait, or unblocks its XREAD. */
  function wake() {
    if (idle) {
      const resolve = idle;
      idle = null;
      resolve();
      return;
    }
    if (!blocked || unblocking || !canUnblock) return;
    unblocking = true;
    const read = generation;
    const attempt = () => {
      if (closing || generation !== read || !blocked) return; // that read has ended: the next one sees the change
      // Not known while reconnecting: try again shortly (at worst the block ends by itself).
      if (clientId === null) return void setTimeout(attempt, 50);
      command.client('UNBLOCK', clientId).then(
        // 0: the XREAD had not reached Redis yet (it was sent on another connection): try again.
        (n) => n === 0 && void setTimeout(attempt, 10),
        // Redis lost: the XREAD fails too, and the loop goes on from there.
        (error: unknown) => refused(error) && canUnblock && cannotUnblock(error),
      );
    };
    attempt();
  }

  /** Rejects when Redis does not answer at all (a hung server or network), and resets the connection. */
  function guard<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`Redis did not answer in ${STALL_MS} ms`));
        connection.disconnect(true);
      }, STALL_MS);
    });
    work.catch(() => undefined); // a late answer or failure of an abandoned read
    return Promise.race([work, stalled]).finally(() => clearTimeout(timer));
  }

  async function read(from: Map<string, string>): Promise<XReadReply> {
    const keys = [...from.keys()];
    const mine = ++generation;
    unblocking = false;
    if (keys.length <= batchKeys) {
      blocked = true;
      try {
        const args = ['COUNT', READ_COUNT, 'BLOCK', canUnblock ? BLOCK_MS : SHORT_BLOCK_MS, 'STREAMS', ...keys, ...keys.map((k) => from.get(k) as string)];
        return ((await connection.call('XREAD', args)) as XReadReply | null) ?? [];
      } finally {
        if (generation === mine) blocked = false;
      }
    }
    // Too many streams for one command: one non-blocking XREAD per batch, in one round trip; poll when nothing came.
    const pipeline = connection.pipeline();
    for (let i = 0; i < keys.length; i += batchKeys) {
      const batch = keys.slice(i, i + batchKeys);
      pipeline.call('XREAD', 'COUNT', READ_COUNT, 'STREAMS', ...batch, ...batch.map((k) => from.get(k) as string));
    }
    const reply: XReadReply = [];
    for (const [error, part] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      if (part) reply.push(...(part as XReadReply));
    }
    if (!reply.length) {
      await new Promise<void>((resolve) => {
        idle = resolve;
        setTimeout(() => {
          if (idle === resolve) idle = null;
          resolve();
        }, POLL_MS);
      });
    }
    return reply;
  }

  function dispatch(reading: Map<string, Follower[]>, reply: XReadReply) {
    const now = Date.now();
    for (const [key, entries] of reply) {
      // Parsed once per entry, shared by every follower of the stream (as the local event log shares its events).
      const events = entries.map(([id, fields]) => {
        const i = fields.indexOf('e');
        const json = i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
        return { id, event: json ? revive(json) : null };
      });
      for (const f of reading.get(key) ?? []) {
        if (f.done) continue;
        for (const { id, event } of events) {
          if (!after(id, f.lastId)) continue; // read for a follower further behind on the same stream
          f.lastId = id;
          f.heardAt = now;
          if (!event) continue;
          f.buffer.push(event);
          if (TERMINAL_EVENTS.has(event.type)) {
            finish(f);
            break;
          }
        }
        notify(f);
      }
    }
  }

  /** Streams that expired without a terminal event (their writer died) end their followers rather than keep them waiting. */
  async function expire(reading: Map<string, Follower[]>) {
    const now = Date.now();
    if (now - lastExpiryCheck < BLOCK_MS) return;
    lastExpiryCheck = now;
    const quiet = [...reading].filter(([, group]) => group.every((f) => now - f.heardAt >= BLOCK_MS)).map(([key]) => key);
    if (!quiet.length) return;
    const pipeline = connection.pipeline();
    for (const key of quiet) pipeline.exists(key);
    const replies = (await pipeline.exec()) ?? [];
    quiet.forEach((key, i) => {
      const [error, exists] = replies[i] ?? [];
      if (!error && exists === 0) for (const f of reading.get(key) ?? []) finish(f);
    });
  }

  /** Redis is gone (or hangs): every follower ends with an error saying so, after the events it already has. */
  function lost(error: unknown) {
    const stranded = [...followers.values()].flatMap((group) => [...group]);
    log.warn('voice: lost Redis while following turns of other instances; their followers end with an error', { followers: stranded.length, error: (error as Error).message });
    for (const f of stranded) {
      finish(f, new RemoteTurnLostError(f.turnId));
    }
  }

  async function run() {
    while (!closing) {
      if (!followers.size) {
        await new Promise<void>((resolve) => (idle = resolve));
        continue;
      }
      try {
        if (canUnblock && clientId === null) {
          try {
            clientId = (await connection.client('ID')) as number;
          } catch (error) {
            if (!refused(error)) throw error;
            cannotUnblock(error);
          }
        }
        // The read set, built and sent in one synchronous step, so that a follower joining later is seen by wake().
        const reading = new Map<string, Follower[]>();
        const from = new Map<string, string>();
        for (const [key, group] of followers) {
          for (const f of group) {
            f.paused = f.buffer.length >= READ_COUNT;
            if (f.paused) continue;
            const readers = reading.get(key);
            if (readers) readers.push(f);
            else reading.set(key, [f]);
            const earliest = from.get(key);
            if (earliest === undefined || after(earliest, f.lastId)) from.set(key, f.lastId);
          }
        }
        if (!from.size) {
          // Every follower holds a full buffer: wait for one of them to take some.
          await new Promise<void>((resolve) => (idle = resolve));
          continue;
        }
        dispatch(reading, await guard(read(from)));
        await guard(expire(reading));
      } catch (error) {
        if (closing) break;
        lost(error);
        // Not a tight loop while Redis is away; ioredis reconnects by itself and the next follower reads again.
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
  const running = run();

  return {
    follow(key, turnId) {
      const f: Follower = { key, turnId, lastId: '0', buffer: [], done: closing, failure: null, stopped: false, paused: false, heardAt: Date.now(), notify: null };
      if (!closing) {
        followers.set(key, (followers.get(key) ?? new Set()).add(f));
        wake();
      }
      const iterator: Subscription = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          for (;;) {
            if (f.stopped) return { done: true, value: undefined };
            const event = f.buffer.shift();
            if (event) {
              if (f.paused && f.buffer.length <= READ_COUNT / 2) {
                f.paused = false;
                wake();
              }
              return { done: false, value: event };
            }
            if (f.failure) {
              const failure = f.failure;
              f.stopped = true;
              throw failure;
            }
            if (f.done) return { done: true, value: undefined };
            await new Promise<void>((resolve) => (f.notify = resolve));
          }
        },
        async return() {
          if (!f.stopped) {
            f.stopped = true;
            f.buffer.length = 0;
            const reading = !f.done;
            finish(f);
            // Its stream leaves the XREAD now, unless another follower still reads it.
            if (reading && !followers.has(f.key)) wake();
          }
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },

    async close() {
      closing = true;
      for (const group of [...followers.values()]) for (const f of [...group]) finish(f);
      idle?.();
      connection.disconnect();
      await running;
    },
  };
}

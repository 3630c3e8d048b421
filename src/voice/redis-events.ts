// Sharing voice turns between server instances through Redis: each turn's events are mirrored, in order, into a Redis
// stream (kept for the retention window), so a client whose subscription lands on another instance still gets the
// whole turn from its first event, then live; and a new turn announces itself so the instance running the session's
// previous turn interrupts it (barge-in across instances).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger';
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
  /** Resolves when every mirrored event so far is in Redis (tests, shutdown). */
  flushed(): Promise<void>;
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
}

/** A stream with no terminal event (its writer died) still expires after this long. */
const ABANDONED_TTL_MS = 60 * 60_000;

export async function createSharedTurns(options: SharedTurnsOptions): Promise<SharedTurns> {
  const prefix = options.prefix ?? 'udc:voice';
  const instance = randomUUID();
  const redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // ioredis reconnects by itself; its 'error' events only need a listener (else it prints each one to the console).
  const logLost = (error: Error) => options.log.warn('voice: Redis connection error; reconnecting', { error: error.message });
  redis.on('error', logLost);
  const listener = redis.duplicate();
  listener.on('error', logLost);
  await redis.connect();
  await listener.connect();
  const channel = `${prefix}:turns`;
  const key = (tenantId: string, turnId: string) => `${prefix}:${tenantId}:turn:${turnId}`;
  const pending = new Set<Promise<unknown>>();
  const readers = new Set<Redis>();

  await listener.subscribe(channel);
  listener.on('message', (_channel: string, message: string) => {
    try {
      const m = JSON.parse(message) as { instance: string; tenantId: string; sessionId: string; turnId: string };
      if (m.instance !== instance) options.onAnnounce(m.tenantId, m.sessionId, m.turnId);
    } catch {
      // not ours
    }
  });

  const revive = (json: string): VoiceEvent => {
    const e = JSON.parse(json) as VoiceEvent & { at: string };
    return { ...e, at: new Date(e.at) };
  };

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
      const k = key(tenantId, turnId);
      const reader = redis.duplicate();
      reader.on('error', logLost);
      readers.add(reader);
      const buffer: VoiceEvent[] = [];
      let lastId = '0';
      let ended = false;
      let stopped = false;
      const stop = () => {
        stopped = true;
        readers.delete(reader);
        reader.disconnect();
      };
      const iterator: Subscription = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          for (;;) {
            if (buffer.length) {
              const event = buffer.shift() as VoiceEvent;
              if (TERMINAL_EVENTS.has(event.type)) ended = true;
              return { done: false, value: event };
            }
            if (ended || stopped) {
              if (!stopped) stop();
              return { done: true, value: undefined };
            }
            let result: [string, [string, string[]][]][] | null;
            try {
              // Blocks until new entries arrive after lastId (replay first: lastId starts at 0).
              result = (await reader.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', k, lastId)) as typeof result;
            } catch (error) {
              if (stopped) return { done: true, value: undefined };
              throw error;
            }
            if (!result) {
              // Nothing for a while: if the stream expired without an end, stop rather than wait forever.
              if ((await redis.exists(k)) === 0) ended = true;
              continue;
            }
            for (const [, entries] of result) {
              for (const [id, fields] of entries) {
                lastId = id;
                const json = fields[fields.indexOf('e') + 1];
                if (json) buffer.push(revive(json));
              }
            }
          }
        },
        async return() {
          if (!stopped) stop();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },

    async announce(tenantId, sessionId, turnId) {
      await redis.publish(channel, JSON.stringify({ instance, tenantId, sessionId, turnId }));
    },

    async flushed() {
      while (pending.size) await Promise.allSettled([...pending]);
    },

    async close() {
      while (pending.size) await Promise.allSettled([...pending]);
      for (const reader of readers) reader.disconnect();
      await listener.quit().catch(() => listener.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

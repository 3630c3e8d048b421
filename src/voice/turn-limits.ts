// The voice-turn limiter: token buckets per tenant and per subject, and a cap on a tenant's running turns, kept in
// Redis (shared by every server instance, one atomic script) or in memory (one instance), with the same semantics.
import { randomUUID } from 'node:crypto';
import { Redis, ReplyError } from 'ioredis';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { pingRedis } from './redis-ping';

export interface BucketLimit {
  /** Burst: the most turns taken at once from a full bucket. 0 turns this limit off. */
  capacity: number;
  /** Steady refill, tokens per minute (> 0 when capacity > 0). */
  refillPerMinute: number;
}

export type TurnLimitReason = 'TENANT_RATE' | 'SUBJECT_RATE' | 'TENANT_CONCURRENCY';

export type TurnAcquireResult =
  | { ok: true; release(): Promise<void> }
  | { ok: false; reason: TurnLimitReason; retryAfterMs: number };

export interface TurnLimiter {
  /**
   * Takes a token from the tenant's and the subject's buckets and a running-turn slot of the tenant, all or nothing;
   * or says why not and when to retry. When several limits refuse, `reason` is the first in the order
   * TENANT_RATE, SUBJECT_RATE, TENANT_CONCURRENCY and `retryAfterMs` the longest wait among them.
   * Rejects with TurnLimitUnavailableError when the Redis backend cannot answer (the caller decides: refuse or let through).
   */
  acquire(tenantId: string, subject: string): Promise<TurnAcquireResult>;
  /** Which store holds the limits. */
  readonly backend: 'redis' | 'memory';
  /** Rejects while the Redis backend cannot answer (within `timeoutMs`), so /ready says so; the memory one always answers. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TurnLimiterOptions {
  /** Shares the limits between server instances through Redis; without it, they live in this process. */
  redisUrl?: string;
  /** Redis key prefix (default `udc:limits`); several deployments or test files can share one Redis. No braces. */
  prefix?: string;
  perTenant: BucketLimit;
  perSubject: BucketLimit;
  /** Most turns of one tenant running at once; 0 turns the cap off. */
  maxRunningPerTenant: number;
  /** A running-turn slot not released within this long is freed anyway (its instance died). Default 10 minutes. */
  leaseMs?: number;
  /** retryAfterMs when the running-turn cap refuses: a hint, since slots free when turns end. Default 1000. */
  concurrencyRetryMs?: number;
  /** Bound on one Redis round trip, so a stalled Redis fails a turn instead of hanging it. Default 2000. */
  commandTimeoutMs?: number;
  /** Clock of the memory backend (tests). Redis uses its own server TIME, so instances with skewed clocks agree. */
  now?: () => number;
  log?: Pick<Logger, 'info' | 'warn'>;
}

/** The limits store could not answer: the message says so, the cause says why. */
export class TurnLimitUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TurnLimitUnavailableError';
  }
}

/** A voice turn refused by a limit: the schema reports it as RATE_LIMITED with the wait in extensions. */
export class TurnLimitedError extends Error {
  constructor(
    readonly reason: TurnLimitReason,
    readonly retryAfterMs: number,
  ) {
    const what = { TENANT_RATE: "your organisation's voice turns per minute", SUBJECT_RATE: 'your voice turns per minute', TENANT_CONCURRENCY: "your organisation's voice turns running at once" }[reason];
    super(`Too many voice turns: the limit on ${what} is reached; retry in ${Math.ceil(retryAfterMs / 1000)} s.`);
    this.name = 'TurnLimitedError';
  }
}

export const DEFAULT_LEASE_MS = 10 * 60_000;
const DEFAULT_CONCURRENCY_RETRY_MS = 1000;
const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** Keys outlive the moment they would be full/empty anyway by this much (missing key = full bucket, no leases). */
const KEY_SLACK_MS = 1000;

/** The limiter options that configuration decides (VOICE_* keys, REDIS_URL); per-minute N means burst N, refill N/min. */
export function turnLimitsFromConfig(
  config: Pick<Config, 'VOICE_TURNS_PER_MINUTE_PER_TENANT' | 'VOICE_TURNS_PER_MINUTE_PER_SUBJECT' | 'VOICE_MAX_RUNNING_TURNS_PER_TENANT' | 'REDIS_URL'>,
): Pick<TurnLimiterOptions, 'redisUrl' | 'perTenant' | 'perSubject' | 'maxRunningPerTenant'> {
  const perMinute = (n: number): BucketLimit => ({ capacity: n, refillPerMinute: n });
  return {
    redisUrl: config.REDIS_URL,
    perTenant: perMinute(config.VOICE_TURNS_PER_MINUTE_PER_TENANT),
    perSubject: perMinute(config.VOICE_TURNS_PER_MINUTE_PER_SUBJECT),
    maxRunningPerTenant: config.VOICE_MAX_RUNNING_TURNS_PER_TENANT,
  };
}

/**
 * Buckets count in units of 1/60,000 token and refill `refillPerMinute` units per millisecond: with integer limits and
 * millisecond clocks every sum is an exact integer, so 30 s + 30 s at 1 a minute is one whole token, not 0.9999….
 */
const UNITS_PER_TOKEN = 60_000;

interface Settings {
  /** Capacity in units; 0 = off. */
  tenantCap: number;
  /** Refill in units per ms. */
  tenantPerMs: number;
  subjectCap: number;
  subjectPerMs: number;
  maxRunning: number;
  leaseMs: number;
  concurrencyRetryMs: number;
}

function settingsOf(options: TurnLimiterOptions): Settings {
  const bucket = (name: string, b: BucketLimit) => {
    if (!Number.isFinite(b.capacity) || b.capacity < 0) throw new Error(`turn limits: ${name}.capacity must be a number >= 0 (0 = off)`);
    if (b.capacity > 0 && !(Number.isFinite(b.refillPerMinute) && b.refillPerMinute > 0)) {
      throw new Error(`turn limits: ${name}.refillPerMinute must be > 0 when ${name}.capacity is set`);
    }
    return { cap: b.capacity * UNITS_PER_TOKEN, perMs: b.capacity > 0 ? b.refillPerMinute : 0 };
  };
  const t = bucket('perTenant', options.perTenant);
  const s = bucket('perSubject', options.perSubject);
  if (!Number.isInteger(options.maxRunningPerTenant) || options.maxRunningPerTenant < 0) {
    throw new Error('turn limits: maxRunningPerTenant must be an integer >= 0 (0 = off)');
  }
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  if (!Number.isInteger(leaseMs) || leaseMs <= 0) throw new Error('turn limits: leaseMs must be a positive integer');
  return {
    tenantCap: t.cap,
    tenantPerMs: t.perMs,
    subjectCap: s.cap,
    subjectPerMs: s.perMs,
    maxRunning: options.maxRunningPerTenant,
    leaseMs,
    concurrencyRetryMs: options.concurrencyRetryMs ?? DEFAULT_CONCURRENCY_RETRY_MS,
  };
}

/**
 * Keys of one tenant share a Redis Cluster hash tag ({tenant}) so one script may touch them all. Ids are
 * URI-encoded, which escapes ':' '{' '}', so no tenant or subject id can name another's key.
 */
export function turnLimitKeys(prefix: string, tenantId: string, subject: string) {
  const tenant = `${prefix}:{${encodeURIComponent(tenantId)}}`;
  return {
    tenantBucket: `${tenant}:bucket`,
    subjectBucket: `${tenant}:subject:${encodeURIComponent(subject)}:bucket`,
    running: `${tenant}:running`,
  };
}

const REASONS: Record<number, TurnLimitReason> = { 1: 'TENANT_RATE', 2: 'SUBJECT_RATE', 3: 'TENANT_CONCURRENCY' };

export async function createTurnLimiter(options: TurnLimiterOptions): Promise<TurnLimiter> {
  const settings = settingsOf(options);
  return options.redisUrl ? createRedisLimiter(options, settings, options.redisUrl) : createMemoryLimiter(options, settings);
}

// ---- Redis ----

// KEYS: tenant bucket (hash: tokens in units, ts in ms), subject bucket (same), tenant's running leases (sorted set:
// lease id -> expiry ms). ARGV: tenantCap, tenantPerMs, subjectCap, subjectPerMs (units), maxRunning, leaseMs, leaseId,
// concurrencyRetryMs, units per token.
// Returns {1} when it took a token from each bucket that is on and a lease; else {0, reason 1|2|3, retryAfterMs}
// and writes nothing but the pruning of expired leases. Time is the Redis server's, so every instance agrees.
const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function level(key, cap, perMs)
  if cap <= 0 then return nil end
  local v = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens, ts = tonumber(v[1]), tonumber(v[2])
  if not tokens or not ts then return cap end
  local elapsed = now - ts
  if elapsed < 0 then elapsed = 0 end
  return math.min(cap, tokens + elapsed * perMs)
end
local unit = tonumber(ARGV[9])
local function wait(tokens, perMs)
  return math.max(1, math.ceil((unit - tokens) / perMs))
end

local tenantCap, tenantPerMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local subjectCap, subjectPerMs = tonumber(ARGV[3]), tonumber(ARGV[4])
local maxRunning, leaseMs = tonumber(ARGV[5]), tonumber(ARGV[6])
local reason, retry = 0, 0

local tt = level(KEYS[1], tenantCap, tenantPerMs)
if tt and tt < unit then reason = 1; retry = wait(tt, tenantPerMs) end
local st = level(KEYS[2], subjectCap, subjectPerMs)
if st and st < unit then
  if reason == 0 then reason = 2 end
  retry = math.max(retry, wait(st, subjectPerMs))
end
if maxRunning > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= maxRunning then
    if reason == 0 then reason = 3 end
    retry = math.max(retry, tonumber(ARGV[8]))
  end
end
if reason ~= 0 then return {0, reason, retry} end

local function take(key, tokens, cap, perMs)
  redis.call('HSET', key, 'tokens', tokens - unit, 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(cap / perMs) + ${KEY_SLACK_MS})
end
if tt then take(KEYS[1], tt, tenantCap, tenantPerMs) end
if st then take(KEYS[2], st, subjectCap, subjectPerMs) end
if maxRunning > 0 then
  redis.call('ZADD', KEYS[3], now + leaseMs, ARGV[7])
  redis.call('PEXPIRE', KEYS[3], leaseMs + ${KEY_SLACK_MS})
end
return {1}
`;

type AcquireCommand = (
  tenantBucket: string,
  subjectBucket: string,
  running: string,
  ...argv: (string | number)[]
) => Promise<[number, number?, number?]>;

async function createRedisLimiter(options: TurnLimiterOptions, s: Settings, url: string): Promise<TurnLimiter> {
  const prefix = options.prefix ?? 'udc:limits';
  const redis = new Redis(url, {
    lazyConnect: true,
    // Fail fast rather than queue while disconnected: a turn should be refused or let through now, not hang.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  });
  // ioredis reconnects by itself; without an 'error' listener each failed attempt is printed (and a lost Redis must
  // never end the process). One warning per outage, not one per reconnect attempt.
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    options.log?.warn('voice turn limits: Redis connection error; turns are refused until it is back', { error: error.message });
  });
  redis.on('ready', () => {
    if (down) options.log?.info('voice turn limits: Redis is back');
    down = false;
  });
  redis.defineCommand('udcTurnAcquire', { numberOfKeys: 3, lua: ACQUIRE_LUA });
  const acquireCommand = (redis as unknown as { udcTurnAcquire: AcquireCommand }).udcTurnAcquire.bind(redis);

  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new TurnLimitUnavailableError(`voice turn limits: Redis is unavailable at REDIS_URL: ${(error as Error).message}`, { cause: error });
  }

  // A reply error is Redis answering (a script bug, a read-only replica): not an outage, so not reported as one.
  const unavailable = (error: unknown) =>
    error instanceof (ReplyError as typeof Error)
      ? new Error(`voice turn limits: Redis rejected the limit script: ${(error as Error).message}`, { cause: error })
      : new TurnLimitUnavailableError(`voice turn limits: Redis is unavailable: ${(error as Error).message}`, { cause: error });

  return {
    backend: 'redis',
    ping: (timeoutMs = 1000) => pingRedis(redis, 'voice turn limits', timeoutMs),
    async acquire(tenantId, subject) {
      const keys = turnLimitKeys(prefix, tenantId, subject);
      const leaseId = randomUUID();
      let reply: [number, number?, number?];
      try {
        reply = await acquireCommand(
          keys.tenantBucket,
          keys.subjectBucket,
          keys.running,
          s.tenantCap,
          s.tenantPerMs,
          s.subjectCap,
          s.subjectPerMs,
          s.maxRunning,
          s.leaseMs,
          leaseId,
          s.concurrencyRetryMs,
          UNITS_PER_TOKEN,
        );
      } catch (error) {
        throw unavailable(error);
      }
      if (reply[0] !== 1) return { ok: false, reason: REASONS[Number(reply[1])], retryAfterMs: Number(reply[2]) };
      let released = false;
      return {
        ok: true,
        async release() {
          if (released || s.maxRunning <= 0) return;
          released = true;
          // Never rejects: a release that cannot reach Redis leaves the lease to expire (leaseMs).
          await redis.zrem(keys.running, leaseId).catch((error: Error) =>
            options.log?.warn('voice turn limits: could not release a running-turn slot; it expires with its lease', {
              tenantId,
              leaseMs: s.leaseMs,
              error: error.message,
            }),
          );
        },
      };
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

// ---- Memory ----

interface Bucket {
  tokens: number;
  ts: number;
}

/** The bucket's level at `now` (a missing bucket is full), as the Lua script computes it. */
function level(bucket: Bucket | undefined, cap: number, perMs: number, now: number): number {
  if (!bucket) return cap;
  return Math.min(cap, bucket.tokens + Math.max(0, now - bucket.ts) * perMs);
}

const wait = (tokens: number, perMs: number) => Math.max(1, Math.ceil((UNITS_PER_TOKEN - tokens) / perMs));

/** How often (in acquires) the memory backend drops buckets that are full again and tenants with no leases. */
const SWEEP_EVERY = 1000;

function createMemoryLimiter(options: TurnLimiterOptions, s: Settings): TurnLimiter {
  const now = options.now ?? Date.now;
  const prefix = options.prefix ?? 'udc:limits';
  const buckets = new Map<string, Bucket & { fullAt: number }>();
  const running = new Map<string, Map<string, number>>(); // running-key -> lease id -> expiry
  let calls = 0;

  // Idle state must not grow without bound (one bucket per subject ever seen): the Redis backend has key TTLs for that.
  const sweep = (at: number) => {
    for (const [key, b] of buckets) if (b.fullAt <= at) buckets.delete(key);
    for (const [key, leases] of running) {
      for (const [id, expiry] of leases) if (expiry <= at) leases.delete(id);
      if (leases.size === 0) running.delete(key);
    }
  };

  return {
    backend: 'memory',
    ping: async () => undefined,
    async acquire(tenantId, subject) {
      const at = now();
      if (++calls % SWEEP_EVERY === 0) sweep(at);
      const keys = turnLimitKeys(prefix, tenantId, subject);
      let reason = 0;
      let retry = 0;
      const tt = s.tenantCap > 0 ? level(buckets.get(keys.tenantBucket), s.tenantCap, s.tenantPerMs, at) : undefined;
      if (tt !== undefined && tt < UNITS_PER_TOKEN) {
        reason = 1;
        retry = wait(tt, s.tenantPerMs);
      }
      const st = s.subjectCap > 0 ? level(buckets.get(keys.subjectBucket), s.subjectCap, s.subjectPerMs, at) : undefined;
      if (st !== undefined && st < UNITS_PER_TOKEN) {
        reason ||= 2;
        retry = Math.max(retry, wait(st, s.subjectPerMs));
      }
      let leases = running.get(keys.running);
      if (s.maxRunning > 0) {
        if (leases) for (const [id, expiry] of leases) if (expiry <= at) leases.delete(id);
        if ((leases?.size ?? 0) >= s.maxRunning) {
          reason ||= 3;
          retry = Math.max(retry, s.concurrencyRetryMs);
        }
      }
      if (reason) return { ok: false, reason: REASONS[reason], retryAfterMs: retry };

      const take = (key: string, tokens: number, cap: number, perMs: number) =>
        buckets.set(key, { tokens: tokens - UNITS_PER_TOKEN, ts: at, fullAt: at + Math.ceil(cap / perMs) });
      if (tt !== undefined) take(keys.tenantBucket, tt, s.tenantCap, s.tenantPerMs);
      if (st !== undefined) take(keys.subjectBucket, st, s.subjectCap, s.subjectPerMs);
      if (s.maxRunning <= 0) return { ok: true, release: async () => {} };
      const leaseId = randomUUID();
      if (!leases) running.set(keys.running, (leases = new Map()));
      leases.set(leaseId, at + s.leaseMs);
      return {
        ok: true,
        async release() {
          // The map of this tenant may have been swept and replaced since: delete from whichever holds the lease now.
          const current = running.get(keys.running);
          current?.delete(leaseId);
          if (current && current.size === 0) running.delete(keys.running);
        },
      };
    },
    async close() {
      buckets.clear();
      running.clear();
    },
  };
}

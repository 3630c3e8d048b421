// Whether one Redis connection answers now: /ready asks it of every connection the voice path holds (the shared turn
// stream's and the turn limits'), so that "ready" means a voice turn will not be refused for want of one of them.
import type { Redis } from 'ioredis';

/**
 * Throws, naming `what`, unless `redis` is connected. Enough for a connection that cannot answer a PING at once (one
 * subscribed to a channel, one blocked in XREAD); pingRedis for the others.
 */
export function assertConnected(redis: Redis, what: string): void {
  if (redis.status !== 'ready') throw new Error(`${what}: Redis connection is ${redis.status}`);
}

/** Resolves once `redis` is connected and answers PING within `timeoutMs`; otherwise rejects, naming `what` and why. */
export async function pingRedis(redis: Redis, what: string, timeoutMs: number): Promise<void> {
  assertConnected(redis, what);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: Redis did not answer PING in ${timeoutMs} ms`)), timeoutMs)));
  const answer = redis.ping().catch((error: Error) => Promise.reject(new Error(`${what}: Redis did not answer PING: ${error.message}`, { cause: error })));
  answer.catch(() => undefined);
  try {
    await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

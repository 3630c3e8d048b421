// Whether one Redis connection answers now: /ready asks it of every connection the voice path holds (the shared turn
// stream's and the turn limits'), so that "ready" means a voice turn will not be refused for want of one of them.
import type { Redis } from 'ioredis';

/** Resolves once `redis` is connected and answers PING within `timeoutMs`; otherwise rejects, naming `what` and why. */
export async function pingRedis(redis: Redis, what: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: Redis did not answer PING in ${timeoutMs} ms`)), timeoutMs)));
  const answer =
    redis.status === 'ready'
      ? redis.ping().catch((error: Error) => Promise.reject(new Error(`${what}: Redis did not answer PING: ${error.message}`, { cause: error })))
      : Promise.reject(new Error(`${what}: Redis connection is ${redis.status}`));
  answer.catch(() => undefined);
  try {
    await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

// The Redis the tests use (TEST_REDIS_URL, else the local one), and whether it answers: tests that need it are
// skipped, saying so, when it does not.
import { createConnection } from 'node:net';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const address = new URL(REDIS_URL);
export const redisHost = address.hostname;
export const redisPort = Number(address.port || 6379);

function reachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: redisHost, port: redisPort });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export const redisUp = await reachable();
/** Appended to a describe's title: why it is skipped, when it is. */
export const redisSkipNote = redisUp ? '' : ` (skipped: no Redis at ${REDIS_URL})`;

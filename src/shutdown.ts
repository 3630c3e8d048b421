// The order of a graceful stop (SIGTERM from a container runtime, SIGINT from a terminal): stop taking work, let running
// voice turns finish within the grace period, complete open subscriptions, close sockets, then pools.
import type { Logger } from './logger';
import type { App } from './server/app';
import type { VoiceService } from './voice/service';

export interface ShutdownOptions {
  app: Pick<App, 'drain' | 'stop'>;
  voice?: Pick<VoiceService, 'drain' | 'close'>;
  /** Closed last, in order (turn limiter, database). */
  closeAfter: (() => Promise<void>)[];
  /** How long running voice turns may take to finish before they are interrupted (SHUTDOWN_GRACE_MS). */
  graceMs: number;
  log: Logger;
}

/** Returns `shutdown(signal)`: the first call runs the stop, later calls get the same promise. */
export function createShutdown({ app, voice, closeAfter, graceMs, log }: ShutdownOptions): (signal: string) => Promise<void> {
  let stopping: Promise<void> | null = null;
  return (signal) =>
    (stopping ??= (async () => {
      log.info('shutting down', { signal, graceMs });
      // /ready 503 at once: the load balancer stops sending; new requests and sockets are refused.
      app.drain();
      await voice?.drain(graceMs);
      // Interrupts what is still running (INTERRUPTED, stored) and ends the event log: followers get `complete`.
      await voice?.close();
      // The subscriptions' last frames are queued by now; let them be written before the sockets close.
      await new Promise((resolve) => setImmediate(resolve));
      await app.stop();
      for (const close of closeAfter) await close();
      log.info('stopped', { signal });
    })());
}

// A graceful stop (src/shutdown.ts, what main.ts runs on SIGTERM) with a voice turn in flight and open subscriptions:
// /ready 503 at once, new requests and sockets refused, the turn finishes within the grace period (or ends
// INTERRUPTED at its end, stored), followers get every event and then `complete`, and the server closes.
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { createShutdown } from '../src/shutdown';
import { createTestDatabase } from './helpers/database';
import { gatedTts, startTurn, startVoiceServer, subscribeEvents } from './helpers/voice';

async function serverInFlight() {
  const database = await createTestDatabase();
  const gate = gatedTts();
  const vs = await startVoiceServer({ database, extra: { tts: gate.tts } });
  gate.hold();
  const turn = await startTurn(vs.server, { text: 'How many open tickets do we have?' });
  const followers = [subscribeEvents(vs.ws, turn.sessionId), subscribeEvents(vs.ws, turn.sessionId, turn.id)];
  // In flight: the question is heard and the agent has answered, the speech is held.
  await followers[0].until((e) => e.__typename === 'TranscriptEvent');
  return { database, gate, vs, turn, followers };
}

/** A new graphql-ws socket's fate: the close event it got. */
function newSocketCloses(url: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    socket.on('error', () => {});
  });
}

describe('graceful stop', () => {
  it('refuses new work at once, lets the running turn finish, completes subscriptions, then closes', async () => {
    const { database, gate, vs, turn, followers } = await serverInFlight();
    const shutdown = createShutdown({ app: vs.server.app, voice: vs.voice, closeAfter: [() => database.close()], graceMs: 60_000, log: createLogger('silent') });
    const stopping = shutdown('SIGTERM');

    const ready = await fetch(`${vs.server.baseUrl}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'draining' });
    const query = await vs.server.query('{ tickets { totalCount } }');
    expect(query.status).toBe(503);
    expect(query.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(await newSocketCloses(vs.server.url)).toEqual({ code: 1001, reason: 'Server shutting down' });
    // The same promise for a second signal.
    expect(shutdown('SIGINT')).toBe(stopping);

    gate.release();
    for (const follower of followers) {
      await follower.done;
      expect(follower.errors).toEqual([]);
      expect(follower.events.at(-1)).toMatchObject({ __typename: 'TurnCompletedEvent', turnId: turn.id });
    }
    await stopping;
    await expect(fetch(`${vs.server.baseUrl}/health`)).rejects.toThrow();
    await vs.ws.dispose();
  });

  it('interrupts a turn still running when the grace period ends, stores it INTERRUPTED, and completes its followers', async () => {
    const { database, vs, turn, followers } = await serverInFlight();
    let stored: { status: string; error_code: string | null }[] = [];
    const shutdown = createShutdown({
      app: vs.server.app,
      voice: vs.voice,
      closeAfter: [
        async () => {
          stored = await database.rows(sql`SELECT status, error_code FROM voice_turns WHERE turn_id = ${turn.id}`);
          await database.close();
        },
      ],
      graceMs: 200,
      log: createLogger('silent'),
    });
    await shutdown('SIGTERM');
    for (const follower of followers) {
      await follower.done;
      expect(follower.errors).toEqual([]);
      expect(follower.events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'INTERRUPTED', retryable: true });
    }
    expect(stored).toEqual([{ status: 'INTERRUPTED', error_code: 'INTERRUPTED' }]);
    await vs.ws.dispose();
  });
});

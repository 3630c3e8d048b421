// Two server instances sharing one database and one Redis: a turn started on one instance can be followed from the
// other (from its first event, live and late), and a new turn on either instance interrupts the session's running turn.
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { generatedDataDir } from './helpers/server';
import { type Dataset, readDataset } from './helpers/truth';
import { REDIS_URL, redisSkipNote, redisUp } from './helpers/redis';
import { type VoiceServer, assertWellFormed, gatedTts, startTurn, startVoiceServer, subscribeEvents } from './helpers/voice';

describe.skipIf(!redisUp)(`two instances over Redis${redisSkipNote}`, () => {
  let a: VoiceServer;
  let b: VoiceServer;
  let database: TestDatabase;
  let data: Dataset;
  const gateA = gatedTts();

  beforeAll(async () => {
    const dir = await generatedDataDir({ customers: 20, tickets: 80, days: 20, seed: 9, anchorDate: '2026-11-24' });
    data = readDataset(dir);
    database = await createTestDatabase();
    const redisPrefix = `udc-test:${randomBytes(4).toString('hex')}`;
    a = await startVoiceServer({ data: dir, database, extra: { redisUrl: REDIS_URL, redisPrefix, tts: gateA.tts } });
    b = await startVoiceServer({ database, extra: { redisUrl: REDIS_URL, redisPrefix } });
  });
  afterAll(async () => {
    gateA.release();
    await a?.stop();
    await b?.stop();
    await database?.close();
  });

  it('follows a turn running on instance A from instance B, live and late, with the same events', async () => {
    gateA.hold();
    const turn = await startTurn(a.server, { text: 'How many open tickets do we have?' });
    const onA = subscribeEvents(a.ws, turn.sessionId, turn.id);
    await onA.until((e) => e.__typename === 'ResponseTextEvent');
    const live = subscribeEvents(b.ws, turn.sessionId, turn.id); // subscribes while A is still speaking
    await live.until((e) => e.__typename === 'ResponseTextEvent');
    gateA.release();
    await Promise.all([onA.done, live.done]);
    assertWellFormed(onA.events);
    expect(live.errors).toEqual([]);
    expect(live.events).toEqual(onA.events);
    const open = data.tickets.filter((t) => t.status === 'open').length;
    expect(onA.events.at(-1)!.responseText).toContain(`${open} open support ticket`);

    const late = subscribeEvents(b.ws, turn.sessionId, turn.id);
    await late.done;
    expect(late.events).toEqual(onA.events);
  });

  /**
   * A question on A, held while A speaks its answer; then the session continues on B with a follow-up that only makes
   * sense with A's question in memory. Returns both turns' events, each turn run to its end.
   */
  async function continueOnB() {
    gateA.hold();
    const first = await startTurn(a.server, { text: 'How many open high priority tickets are there?' });
    const onA = subscribeEvents(a.ws, first.sessionId, first.id);
    await onA.until((e) => e.__typename === 'ResponseTextEvent');
    const second = await startTurn(b.server, { sessionId: first.sessionId, text: 'What about closed ones?' });
    await onA.done;
    gateA.release();
    const onB = subscribeEvents(b.ws, second.sessionId, second.id);
    await onB.done;
    return { onA, onB };
  }
  const closedHighAnswer = () => `${data.tickets.filter((t) => t.status === 'closed' && t.priority === 'high').length} closed high-priority support ticket`;

  it('interrupts a turn running on A when the session continues on B, and B knows the conversation', async () => {
    const { onA, onB } = await continueOnB();
    expect(onA.events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'INTERRUPTED' });
    expect(onA.events.some((e) => e.__typename === 'AudioChunkEvent')).toBe(false);
    expect(onB.events.at(-1)!.responseText).toContain(closedHighAnswer());
  });

  it('waits for the interrupted turn on A to write its memory before B answers, even when that write is slow', async () => {
    // A deliberately slow checkpoint write: B's turn starts while A's memory is still being written, and must not answer
    // from the conversation as it was before A's turn. (PGlite runs one statement at a time, so there B's read waits
    // anyway; PostgreSQL shows the race.)
    await database.rows(sql`CREATE FUNCTION udc_test_slow_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.4); RETURN NEW; END $$`);
    await database.rows(sql`CREATE TRIGGER udc_test_slow_checkpoint BEFORE INSERT ON checkpoints FOR EACH ROW EXECUTE FUNCTION udc_test_slow_checkpoint()`);
    try {
      const { onB } = await continueOnB();
      expect(onB.events.at(-1)!.responseText).toContain(closedHighAnswer());
    } finally {
      gateA.release();
      await database.rows(sql`DROP TRIGGER udc_test_slow_checkpoint ON checkpoints`);
      await database.rows(sql`DROP FUNCTION udc_test_slow_checkpoint()`);
    }
  });

  it('does not wait for ever on a turn left RUNNING by an instance that stopped: it is marked INTERRUPTED', async () => {
    const sessionId = `stale-${randomBytes(4).toString('hex')}`;
    await database.rows(sql`INSERT INTO voice_sessions (tenant_id, session_id) VALUES ('default', ${sessionId})`);
    await database.rows(sql`INSERT INTO voice_turns (tenant_id, turn_id, session_id, status, input_kind) VALUES ('default', 'lost-turn', ${sessionId}, 'RUNNING', 'TEXT')`);
    const turn = await startTurn(b.server, { sessionId, text: 'How many customers do we have?' });
    const onB = subscribeEvents(b.ws, sessionId, turn.id);
    await onB.done;
    expect(onB.events.at(-1)).toMatchObject({ __typename: 'TurnCompletedEvent' });
    expect(onB.events.at(-1)!.responseText).toContain(`${data.customers.length} customers`);
    const stored = await b.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { id status errorCode } } }`, { id: sessionId });
    expect(stored.data.voiceSession.turns).toEqual([
      { id: 'lost-turn', status: 'INTERRUPTED', errorCode: 'INTERRUPTED' },
      { id: turn.id, status: 'COMPLETED', errorCode: null },
    ]);
  });
});

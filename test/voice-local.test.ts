// Voice with the offline providers (local intent model, espeak-ng, pocketsphinx) over a real graphql-ws socket:
// event order and completeness, right numbers from the data, late subscribers, memory across turns and restarts,
// bad audio and argument validation, and the spoken round trip where the Debian speech tools are installed.
import { spawnSync } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../src/voice/audio';
import { POCKETSPHINX_MODEL_DIR } from '../src/voice/providers/local/stt';
import { existsSync } from 'node:fs';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { espeak, pocketsphinx, speechToolsMissing } from './helpers/speech-tools';
import { generatedDataDir } from './helpers/server';
import { type Dataset, readDataset } from './helpers/truth';
import { type VoiceServer, assertWellFormed, gatedTts, runTurn, startTurn, startVoiceServer, subscribeEvents } from './helpers/voice';


let vs: VoiceServer;
let data: Dataset;
let dataDir: string;
let database: TestDatabase;

const count = <T>(rows: T[], predicate: (row: T) => boolean) => rows.filter(predicate).length;

beforeAll(async () => {
  // Anchored on yesterday so "the last 30 days" always holds data, whenever the suite runs.
  const anchorDate = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  dataDir = await generatedDataDir({ customers: 30, tickets: 140, days: 45, seed: 7, anchorDate });
  data = readDataset(dataDir);
  database = await createTestDatabase();
  vs = await startVoiceServer({ data: dataDir, database });
});
afterAll(async () => {
  await vs?.stop();
  await database?.close();
});

describe('a text turn with the local providers', () => {
  it('answers with the exact count, in a well-formed ordered stream', async () => {
    const { turn, events, errors } = await runTurn(vs, { text: 'How many open tickets do we have?' });
    expect(errors).toEqual([]);
    assertWellFormed(events);
    const open = count(data.tickets, (t) => t.status === 'open');
    const types = events.map((e) => e.__typename);
    expect(types[0]).toBe('TranscriptEvent');
    expect(events[0].text).toBe('How many open tickets do we have?');
    expect(types[1]).toBe('ToolCallEvent');
    expect(events[1].tool).toBe('get_support_tickets');
    expect(JSON.parse(events[1].arguments!)).toEqual({ status: 'open' });
    expect(types[2]).toBe('ToolResultEvent');
    expect(events[2].summary).toContain(`${open} open support ticket`);
    const completed = events[events.length - 1];
    expect(completed.__typename).toBe('TurnCompletedEvent');
    expect(completed.responseText).toContain(`${open} open support ticket`);
    const sentences = events.filter((e) => e.__typename === 'ResponseTextEvent').map((e) => e.text);
    expect(sentences.join(' ')).toBe(completed.responseText);
    expect(completed.timings!.sttMs).toBeNull();
    expect(events.every((e) => e.turnId === turn.id && e.sessionId === turn.sessionId)).toBe(true);
    if (espeak) {
      const chunks = events.filter((e) => e.__typename === 'AudioChunkEvent');
      expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
      expect(chunks.map((c) => c.text)).toEqual(sentences);
      for (const chunk of chunks) {
        const pcm = decodeWav(Buffer.from(chunk.data!, 'base64'));
        expect(pcm.sampleRate).toBe(chunk.sampleRate);
        expect(pcm.samples.length).toBeGreaterThan(1000);
      }
      expect(completed.timings!.firstAudioMs).not.toBeNull();
    }
  });

  it('replays the whole turn to a subscriber that arrives after it ended', async () => {
    const { turn, events } = await runTurn(vs, { text: 'How many active customers do we have?' });
    const late = subscribeEvents(vs.ws, turn.sessionId, turn.id);
    await late.done;
    expect(late.events).toEqual(events);
    const active = count(data.customers, (c) => c.status === 'active');
    expect(events.at(-1)!.responseText).toContain(`${active} active customer`);
  });

  it('streams every turn of a session to a session subscriber, in order', async () => {
    const first = await runTurn(vs, { text: 'How many customers do we have?' });
    const all = subscribeEvents(vs.ws, first.turn.sessionId);
    await all.until((e) => e.turnId === first.turn.id && e.__typename === 'TurnCompletedEvent');
    const second = await runTurn(vs, { sessionId: first.turn.sessionId, text: 'How many closed tickets do we have?' });
    await all.until((e) => e.turnId === second.turn.id && e.__typename === 'TurnCompletedEvent');
    all.unsubscribe();
    expect(all.events).toEqual([...first.events, ...second.events]);
  });

  it('remembers the session: a follow-up question uses the previous one, and the session is stored', async () => {
    const first = await runTurn(vs, { text: 'How many open high priority tickets are there?' });
    const openHigh = count(data.tickets, (t) => t.status === 'open' && t.priority === 'high');
    expect(first.events.at(-1)!.responseText).toContain(`${openHigh} open high-priority support ticket`);
    const second = await runTurn(vs, { sessionId: first.turn.sessionId, text: 'What about closed ones?' });
    const closedHigh = count(data.tickets, (t) => t.status === 'closed' && t.priority === 'high');
    const call = second.events.find((e) => e.__typename === 'ToolCallEvent')!;
    expect(JSON.parse(call.arguments!)).toEqual({ status: 'closed', priority: 'high' });
    expect(second.events.at(-1)!.responseText).toContain(`${closedHigh} closed high-priority support ticket`);

    const session = await vs.server.query(
      `query($id: ID!) { voiceSession(sessionId: $id) { id turns { id status inputKind transcript responseText errorCode timings { totalMs } } } }`,
      { id: first.turn.sessionId },
    );
    expect(session.errors).toBeUndefined();
    const turns = session.data.voiceSession.turns;
    expect(turns.map((t: { id: string }) => t.id)).toEqual([first.turn.id, second.turn.id]);
    expect(turns[1]).toMatchObject({ status: 'COMPLETED', inputKind: 'TEXT', transcript: 'What about closed ones?', errorCode: null });
    expect(turns[1].responseText).toBe(second.events.at(-1)!.responseText);
  });

  it('stores the outcome before the last event goes out, even when the database is slow to write it', async () => {
    // A deliberately slow write of the turn's outcome: the TurnCompleted event must still not overtake it.
    // (On PGlite every statement runs one at a time, so the read waits anyway; PostgreSQL shows the race.)
    await database.rows(sql`CREATE FUNCTION udc_test_slow_turn_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.4); RETURN NEW; END $$`);
    await database.rows(sql`CREATE TRIGGER udc_test_slow_turn_update BEFORE UPDATE ON voice_turns FOR EACH ROW EXECUTE FUNCTION udc_test_slow_turn_update()`);
    try {
      const { turn, events } = await runTurn(vs, { text: 'How many customers do we have?' });
      expect(events.at(-1)!.__typename).toBe('TurnCompletedEvent');
      const session = await vs.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { status responseText } } }`, { id: turn.sessionId });
      expect(session.data.voiceSession.turns).toEqual([{ status: 'COMPLETED', responseText: events.at(-1)!.responseText }]);
    } finally {
      await database.rows(sql`DROP TRIGGER udc_test_slow_turn_update ON voice_turns`);
      await database.rows(sql`DROP FUNCTION udc_test_slow_turn_update()`);
    }
  });

  it('keeps the memory across a restart of the server', async () => {
    const first = await runTurn(vs, { text: 'How many low priority tickets do we have?' });
    expect(first.events.at(-1)!.__typename).toBe('TurnCompletedEvent');
    await vs.stop();
    vs = await startVoiceServer({ database });
    const stored = await vs.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { id status } } }`, { id: first.turn.sessionId });
    expect(stored.data.voiceSession.turns).toEqual([{ id: first.turn.id, status: 'COMPLETED' }]);
    const second = await runTurn(vs, { sessionId: first.turn.sessionId, text: 'And the open ones?' });
    const openLow = count(data.tickets, (t) => t.status === 'open' && t.priority === 'low');
    expect(second.events.at(-1)!.responseText).toContain(`${openLow} open low-priority support ticket`);
    // The events of the turn that ran before the restart are gone; the error says where to look instead.
    const gone = subscribeEvents(vs.ws, first.turn.sessionId, first.turn.id);
    await gone.done;
    expect(gone.errors[0]?.message).toMatch(/no longer kept.*voiceSession/);
  });

  it('runs turns of different sessions at the same time without mixing them up', async () => {
    const questions = [
      ['How many open tickets do we have?', `${count(data.tickets, (t) => t.status === 'open')} open support ticket`],
      ['How many closed tickets do we have?', `${count(data.tickets, (t) => t.status === 'closed')} closed support ticket`],
      ['How many inactive customers do we have?', `${count(data.customers, (c) => c.status === 'inactive')} inactive customer`],
    ] as const;
    const results = await Promise.all(questions.map(([text]) => runTurn(vs, { text })));
    results.forEach((r, i) => {
      assertWellFormed(r.events);
      expect(r.events.every((e) => e.turnId === r.turn.id)).toBe(true);
      expect(r.events[0].text).toBe(questions[i][0]);
      expect(r.events.at(-1)!.responseText).toContain(questions[i][1]);
    });
    expect(new Set(results.map((r) => r.turn.sessionId)).size).toBe(3);
  });

  it('understands the tenant’s metric names and answers with the exact average', async () => {
    const metric = 'daily_active_users';
    const today = new Date();
    const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
    const from = new Date(end - 29 * 86_400_000).toISOString().slice(0, 10);
    const to = new Date(end).toISOString().slice(0, 10);
    const points = data.metrics.filter((m) => m.metric === metric && m.date >= from && m.date <= to);
    expect(points.length).toBeGreaterThan(0);
    const average = points.reduce((sum, p) => sum + p.value, 0) / points.length;

    const { events } = await runTurn(vs, { text: 'What is the average daily active users over the last thirty days?' });
    const call = events.find((e) => e.__typename === 'ToolCallEvent')!;
    expect(call.tool).toBe('get_analytics_summary');
    expect(JSON.parse(call.arguments!)).toEqual({ metric, days: 30 });
    const spoken = new Intl.NumberFormat('en-US', { maximumFractionDigits: average >= 100 ? 0 : 1 }).format(average);
    expect(events.at(-1)!.responseText).toContain(`Daily active users averaged ${spoken} over ${points.length} days`);
  });

  it('tells clients what it can do', async () => {
    const { data: caps, errors } = await vs.server.query(`{ voiceCapabilities { provider speechToText textToSpeech model audioFormats maxAudioBytes maxChunkCharacters } }`);
    expect(errors).toBeUndefined();
    expect(caps.voiceCapabilities).toMatchObject({ provider: 'local', model: 'local intent model', audioFormats: ['WAV'], maxAudioBytes: 25 * 1024 * 1024, maxChunkCharacters: 200 });
    expect(caps.voiceCapabilities.textToSpeech).toBe(espeak ? 'espeak-ng' : null);
    expect(caps.voiceCapabilities.speechToText).toBe(pocketsphinx && existsSync(POCKETSPHINX_MODEL_DIR) ? 'pocketsphinx (domain grammar)' : null);
  });

  it('answers questions it cannot map to a tool with what it can do', async () => {
    const { events } = await runTurn(vs, { text: 'Sing me a song' });
    expect(events.find((e) => e.__typename === 'ToolCallEvent')).toBeUndefined();
    expect(events.at(-1)!.responseText).toMatch(/support tickets, customers and analytics/);
  });
});

describe('a turn ended from outside (cancel, barge-in)', () => {
  // The answer is held at its first sentence's speech, so the turn is still running when it is ended.
  const gate = gatedTts();
  let held: VoiceServer;
  beforeAll(async () => {
    held = await startVoiceServer({ database, extra: { tts: gate.tts } });
  });
  afterAll(async () => {
    gate.release();
    await held?.stop();
  });

  const storedTurns = async (sessionId: string) =>
    (await held.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { id status errorCode transcript finishedAt } } }`, { id: sessionId })).data
      .voiceSession.turns as { id: string; status: string; errorCode: string | null; transcript: string | null; finishedAt: string | null }[];

  /** A slow write to voice_turns, as in the test above: the answers below must not overtake it. */
  async function withSlowTurnWrites(run: () => Promise<void>) {
    await database.rows(sql`CREATE FUNCTION udc_test_slow_turn_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.4); RETURN NEW; END $$`);
    await database.rows(sql`CREATE TRIGGER udc_test_slow_turn_update BEFORE UPDATE ON voice_turns FOR EACH ROW EXECUTE FUNCTION udc_test_slow_turn_update()`);
    try {
      await run();
    } finally {
      gate.release();
      await held.voice.idle();
      await database.rows(sql`DROP TRIGGER udc_test_slow_turn_update ON voice_turns`);
      await database.rows(sql`DROP FUNCTION udc_test_slow_turn_update()`);
    }
  }

  it('is stored INTERRUPTED (CANCELLED) before cancelVoiceTurn answers true and before its TurnFailedEvent goes out', async () => {
    // (On PGlite every statement runs one at a time, so the reads wait anyway; PostgreSQL shows the race.)
    gate.hold();
    const turn = await startTurn(held.server, { text: 'How many open tickets do we have?' });
    await withSlowTurnWrites(async () => {
      const events = subscribeEvents(held.ws, turn.sessionId, turn.id);
      await events.until((e) => e.__typename === 'ResponseTextEvent');
      const cancel = held.server.query(`mutation($s: ID!, $t: ID!) { cancelVoiceTurn(sessionId: $s, turnId: $t) }`, { s: turn.sessionId, t: turn.id });
      const last = await events.until((e) => e.__typename === 'TurnFailedEvent');
      expect(last).toMatchObject({ code: 'CANCELLED', retryable: false });
      expect(await storedTurns(turn.sessionId)).toMatchObject([{ id: turn.id, status: 'INTERRUPTED', errorCode: 'CANCELLED' }]);
      expect(await cancel).toMatchObject({ data: { cancelVoiceTurn: true } });
      await events.done;
      assertWellFormed(events.events);
    });
    // Once it has stopped, its whole outcome is stored over that: what was heard, and when it settled.
    expect(await storedTurns(turn.sessionId)).toMatchObject([
      { id: turn.id, status: 'INTERRUPTED', errorCode: 'CANCELLED', transcript: 'How many open tickets do we have?', finishedAt: expect.any(String) },
    ]);
  });

  it('barge-in: the new turn starts once the one it interrupts is stored INTERRUPTED and its TurnFailedEvent is out', async () => {
    gate.hold();
    const first = await startTurn(held.server, { text: 'How many closed tickets do we have?' });
    const session = subscribeEvents(held.ws, first.sessionId);
    let second!: Awaited<ReturnType<typeof startTurn>>;
    await withSlowTurnWrites(async () => {
      await session.until((e) => e.__typename === 'ResponseTextEvent');
      second = await startTurn(held.server, { sessionId: first.sessionId, text: 'And the open ones?' });
      expect(await session.until((e) => e.turnId === first.id && e.__typename === 'TurnFailedEvent')).toMatchObject({ code: 'INTERRUPTED' });
      expect(await storedTurns(first.sessionId)).toMatchObject([
        { id: first.id, status: 'INTERRUPTED', errorCode: 'INTERRUPTED' },
        { id: second.id, status: 'RUNNING' },
      ]);
    });
    await session.until((e) => e.turnId === second.id && e.__typename === 'TurnCompletedEvent');
    session.unsubscribe();
    // The first turn's events all come before the second's.
    const turnOrder = session.events.map((e) => e.turnId);
    expect(turnOrder.lastIndexOf(first.id)).toBeLessThan(turnOrder.indexOf(second.id));
    expect(await storedTurns(first.sessionId)).toMatchObject([
      { id: first.id, status: 'INTERRUPTED', errorCode: 'INTERRUPTED', transcript: 'How many closed tickets do we have?', finishedAt: expect.any(String) },
      { id: second.id, status: 'COMPLETED', errorCode: null },
    ]);
  });
});

describe('bad input', () => {
  it('turns audio that is not audio into TurnFailed BAD_AUDIO, and keeps serving', async () => {
    const garbage = Buffer.from('this is not a wav file at all, just text').toString('base64');
    const { events } = await runTurn(vs, { audio: garbage });
    assertWellFormed(events);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ __typename: 'TurnFailedEvent', code: 'BAD_AUDIO', retryable: false });
    expect(events[0].message).toMatch(/not a WAV/);

    const wrongFormat = await runTurn(vs, { audio: Buffer.from('RIFF\0\0\0\0WAVEfmt ').toString('base64'), audioFormat: 'MP3' });
    expect(wrongFormat.events[0]).toMatchObject({ code: 'BAD_AUDIO' });
    expect(wrongFormat.events[0].message).toMatch(/looks like WAV.*audioFormat: WAV/);

    const notBase64 = await runTurn(vs, { audio: '%%% not base64 %%%' });
    expect(notBase64.events[0]).toMatchObject({ code: 'BAD_AUDIO' });

    const after = await runTurn(vs, { text: 'How many customers do we have?' });
    expect(after.events.at(-1)!.__typename).toBe('TurnCompletedEvent');
  });

  it('rejects arguments with messages that say what to fix', async () => {
    const both = await vs.server.query(`mutation { voiceTurn(input: { text: "hi", audio: "AAAA" }) { id } }`);
    expect(both.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(both.errors?.[0].message).toMatch(/exactly one of text or audio/);
    const neither = await vs.server.query(`mutation { voiceTurn(input: {}) { id } }`);
    expect(neither.errors?.[0].message).toMatch(/exactly one of text or audio/);
    const blank = await vs.server.query(`mutation { voiceTurn(input: { text: "   " }) { id } }`);
    expect(blank.errors?.[0].message).toMatch(/text: must not be empty/);
    const session = await vs.server.query(`mutation { voiceTurn(input: { text: "hi", sessionId: "no spaces allowed" }) { id } }`);
    expect(session.errors?.[0].message).toMatch(/sessionId: must be 1 to 64 letters/);
    const format = await vs.server.query(`mutation { voiceTurn(input: { audio: "AAAA", audioFormat: AAC }) { id } }`);
    expect(format.errors?.[0].message).toMatch(/AAC/);
    // Over 25 MB once decoded: rejected from its length, before any decoding.
    const huge = 'A'.repeat(Math.ceil(((25 * 1024 * 1024 + 10) * 4) / 3));
    const big = await vs.server.query(`mutation($a: String!) { voiceTurn(input: { audio: $a }) { id } }`, { a: huge });
    expect(big.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(big.errors?.[0].message).toMatch(/25 MB/);
  });

  it('rejects subscriptions to unknown or malformed turns', async () => {
    const malformed = subscribeEvents(vs.ws, 'abc', 'not-a-uuid');
    await malformed.done;
    expect(malformed.errors[0]?.message).toMatch(/turnId: must be the id of a turn/);
    const unknown = subscribeEvents(vs.ws, 'abc', '00000000-0000-4000-8000-000000000000');
    await unknown.done;
    expect(unknown.errors[0]?.message).toMatch(/no turn 00000000-0000-4000-8000-000000000000 in session abc/);
    expect(unknown.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe.skipIf(!!speechToolsMissing)(`the offline spoken round trip${speechToolsMissing ? ` (skipped: ${speechToolsMissing})` : ''}`, () => {
  it('hears an espeak-ng question with pocketsphinx and speaks the right answer', async () => {
    const spoken = spawnSync(espeak!, ['-v', 'en-us', '--stdout', 'How many open tickets do we have?']);
    expect(spoken.status).toBe(0);
    const { events } = await runTurn(vs, { audio: spoken.stdout.toString('base64'), audioFormat: 'WAV' });
    assertWellFormed(events);
    expect(events[0], JSON.stringify(events[0])).toMatchObject({ __typename: 'TranscriptEvent', text: 'how many open tickets do we have' });
    const open = count(data.tickets, (t) => t.status === 'open');
    const completed = events.at(-1)!;
    expect(completed.responseText).toContain(`${open} open support ticket`);
    expect(completed.timings!.sttMs).not.toBeNull();
    const audio = events.filter((e) => e.__typename === 'AudioChunkEvent');
    expect(audio.length).toBeGreaterThan(0);
  });

  it('hears a question with a number in it', async () => {
    const spoken = spawnSync(espeak!, ['-v', 'en-us', '--stdout', 'Tell me about customer twelve']);
    const { events } = await runTurn(vs, { audio: spoken.stdout.toString('base64') });
    expect(events[0].text).toBe('tell me about customer twelve');
    const call = events.find((e) => e.__typename === 'ToolCallEvent')!;
    expect(JSON.parse(call.arguments!)).toEqual({ customer_id: 12 });
    const customer = data.customers.find((c) => c.customer_id === 12)!;
    expect(events.at(-1)!.responseText).toContain(customer.name);
  });
});

// The Groq path with the real groq-sdk and ChatGroq against a fake Groq-compatible server on 127.0.0.1, over a real
// graphql-ws socket: what Groq receives (multipart WAV + model, TTS model/voice/format and ≤ 200-character inputs,
// the seven tools), streamed audio chunks, 429 then success, permanent failures, barge-in, and memory across turns.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../src/server/metrics';
import { decodeWav } from '../src/voice/audio';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import {
  type FakeGroq,
  type RecordedRequest,
  gatedTextCompletion,
  startFakeGroq,
  textCompletion,
  textThenToolCallCompletion,
  toneWav,
  toolCallCompletion,
} from './helpers/fake-groq';
import { generatedDataDir } from './helpers/server';
import { type Dataset, readDataset } from './helpers/truth';
import { type VoiceServer, assertWellFormed, runTurn, startTurn, startVoiceServer, subscribeEvents } from './helpers/voice';

let fake: FakeGroq;
let vs: VoiceServer;
let data: Dataset;
let database: TestDatabase;

const SEVEN_TOOLS = [
  'get_analytics',
  'get_analytics_summary',
  'get_customer_by_id',
  'get_customers',
  'get_support_tickets',
  'get_ticket_by_id',
  'search_customers',
];

const metrics = createMetrics({ defaultMetrics: false });

beforeAll(async () => {
  fake = await startFakeGroq();
  const dir = await generatedDataDir({ customers: 25, tickets: 120, days: 30, seed: 5, anchorDate: '2026-11-24' });
  data = readDataset(dir);
  database = await createTestDatabase();
  vs = await startVoiceServer({
    data: dir,
    database,
    config: { VOICE_PROVIDER: 'groq', GROQ_API_KEY: 'gsk_test_not_a_real_key', GROQ_BASE_URL: fake.baseURL, GROQ_MAX_RETRIES: 2, GROQ_TIMEOUT_MS: 10_000 },
    providerMetrics: metrics.voice.providerRequest,
  });
});
afterAll(async () => {
  await vs?.stop();
  await database?.close();
  await fake?.close();
});

let seen = 0;
beforeEach(() => {
  seen = fake.requests.length;
});
/** Requests the fake received during the current test. */
const received = (endpoint?: RecordedRequest['endpoint']) => fake.requests.slice(seen).filter((r) => !endpoint || r.endpoint === endpoint);

/** What the second LLM call sees as the tool's answer (as a real LLM would read it). */
function toolContent(request: RecordedRequest): string {
  const tool = [...request.json.messages].reverse().find((m: { role: string }) => m.role === 'tool');
  return JSON.parse(tool.content).summary as string;
}

describe('an audio turn through Groq', () => {
  it('sends Groq the right requests and streams a well-formed turn', async () => {
    const openHigh = data.tickets.filter((t) => t.status === 'open' && t.priority === 'high').length;
    const longTail =
      'Most of them were opened in the last few weeks, and several belong to the same handful of customers, which suggests that a small number of accounts, mostly on older plans, are responsible for a large share of the urgent work that the support team is handling right now. I can list them if you like.';
    fake.script('transcriptions', () => ({ kind: 'json', body: { text: 'How many high priority tickets are open?' } }));
    fake.script(
      'chat',
      () => toolCallCompletion('get_support_tickets', { status: 'open', priority: 'high' }),
      (request) => textCompletion(`${toolContent(request)} ${longTail}`),
    );
    const wav = toneWav(0.5, 16000);
    const { turn, events, errors } = await runTurn(vs, { audio: wav.toString('base64'), audioFormat: 'WAV', voice: 'diana' });
    expect(errors).toEqual([]);
    assertWellFormed(events);

    // Speech-to-text: a multipart upload of our WAV with the model and the key.
    const [stt] = received('transcriptions');
    expect(stt.headers.authorization).toBe('Bearer gsk_test_not_a_real_key');
    expect(stt.fields?.model).toBe('whisper-large-v3-turbo');
    expect(stt.file?.name).toMatch(/\.wav$/);
    expect(stt.file?.bytes.equals(wav)).toBe(true);

    // The LLM: offered the seven tools, streamed, the transcript as the question; then the tool result.
    const chats = received('chat');
    expect(chats).toHaveLength(2);
    expect(chats[0].json.model).toBe('openai/gpt-oss-20b');
    expect(chats[0].json.stream).toBe(true);
    expect(chats[0].json.tools.map((t: { function: { name: string } }) => t.function.name).sort()).toEqual(SEVEN_TOOLS);
    const statusEnum = chats[0].json.tools.find((t: { function: { name: string } }) => t.function.name === 'get_support_tickets').function.parameters.properties.status.enum;
    expect(statusEnum).toEqual(['open', 'closed']);
    expect(chats[0].json.messages[0].role).toBe('system');
    expect(chats[0].json.messages.at(-1)).toMatchObject({ role: 'user', content: 'How many high priority tickets are open?' });
    expect(toolContent(chats[1])).toContain(`${openHigh} open high-priority support ticket`);

    // Text-to-speech: one call per chunk, each at most 200 characters, model/voice/format as configured.
    const speech = received('speech');
    expect(speech.length).toBeGreaterThanOrEqual(3);
    for (const r of speech) {
      expect(r.json).toMatchObject({ model: 'canopylabs/orpheus-v1-english', voice: 'diana', response_format: 'wav' });
      expect(r.json.input.length).toBeLessThanOrEqual(200);
    }

    const types = events.map((e) => e.__typename);
    expect(types.slice(0, 3)).toEqual(['TranscriptEvent', 'ToolCallEvent', 'ToolResultEvent']);
    expect(events[0].text).toBe('How many high priority tickets are open?');
    expect(JSON.parse(events[1].arguments!)).toEqual({ status: 'open', priority: 'high' });
    const completed = events.at(-1)!;
    expect(completed.__typename).toBe('TurnCompletedEvent');
    expect(completed.responseText).toBe(`${toolContent(chats[1])} ${longTail}`);
    expect(completed.timings!.sttMs).not.toBeNull();
    expect(completed.timings!.firstAudioMs).not.toBeNull();
    const chunks = events.filter((e) => e.__typename === 'AudioChunkEvent');
    expect(chunks.map((c) => c.text)).toEqual(speech.map((r) => r.json.input));
    expect(chunks.map((c) => c.text).join(' ')).toBe(completed.responseText);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    for (const c of chunks) {
      expect(c.mimeType).toBe('audio/wav');
      expect(decodeWav(Buffer.from(c.data!, 'base64')).sampleRate).toBe(24000);
    }
    // Streamed: the first sentence was spoken before the agent had produced its last one.
    const firstAudio = types.indexOf('AudioChunkEvent');
    expect(firstAudio).toBeGreaterThan(-1);

    const stored = await vs.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { inputKind transcript responseText status } } }`, { id: turn.sessionId });
    expect(stored.data.voiceSession.turns).toEqual([
      { inputKind: 'AUDIO', transcript: 'How many high priority tickets are open?', responseText: completed.responseText, status: 'COMPLETED' },
    ]);
  });

  it('passes compressed formats to Whisper as they are, named and typed by their format', async () => {
    fake.script('transcriptions', () => ({ kind: 'json', body: { text: 'How many customers do we have?' } }));
    fake.script('chat', () => textCompletion('Fine.'));
    const ogg = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(200, 7)]);
    const { events } = await runTurn(vs, { audio: ogg.toString('base64'), audioFormat: 'OGG' });
    expect(events.at(-1)!.__typename).toBe('TurnCompletedEvent');
    const [stt] = received('transcriptions');
    expect(stt.file).toMatchObject({ name: 'speech.ogg', type: 'audio/ogg' });
    expect(stt.file!.bytes.equals(ogg)).toBe(true);
  });

  it('speaks the first sentence while the LLM is still writing the rest', async () => {
    // The LLM's stream is held after its first sentence until the first audio chunk has been produced.
    let releaseRest!: () => void;
    const rest = new Promise<void>((resolve) => (releaseRest = resolve));
    fake.script('chat', () => gatedTextCompletion('The first sentence is ready. ', 'And this one came later.', rest));
    const turn = await startTurn(vs.server, { text: 'Say two sentences.' });
    const events = subscribeEvents(vs.ws, turn.sessionId, turn.id);
    const audio = await events.until((e) => e.__typename === 'AudioChunkEvent');
    expect(audio.text).toBe('The first sentence is ready.');
    expect(events.events.some((e) => e.text === 'And this one came later.')).toBe(false);
    releaseRest();
    await events.done;
    expect(events.events.at(-1)!.responseText).toBe('The first sentence is ready. And this one came later.');
  });
});

describe('provider failures', () => {
  it('retries a 429 (honouring retry-after) and then succeeds', async () => {
    fake.script('chat', () => ({ kind: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '0' } }), () => textCompletion('All good after a retry.'));
    fake.script('speech', () => ({ kind: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '0' } }));
    const { events } = await runTurn(vs, { text: 'Hello?' });
    assertWellFormed(events);
    expect(events.at(-1)).toMatchObject({ __typename: 'TurnCompletedEvent', responseText: 'All good after a retry.' });
    expect(received('chat')).toHaveLength(2);
    expect(received('speech')).toHaveLength(2);
    expect(events.filter((e) => e.__typename === 'AudioChunkEvent')).toHaveLength(1);
    // Every request is counted by endpoint, status and attempt, retries apart (the SDK numbers its attempts).
    const text = await metrics.registry.metrics();
    const count = (endpoint: string, outcome: string, attempt: string) =>
      Number(new RegExp(`voice_provider_requests_total\\{endpoint="${endpoint}",outcome="${outcome}",attempt="${attempt}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    for (const endpoint of ['chat/completions', 'audio/speech']) {
      expect(count(endpoint, '429', 'first'), text).toBeGreaterThanOrEqual(1);
      expect(count(endpoint, '200', 'retry'), text).toBeGreaterThanOrEqual(1);
    }
  });

  it('ends the turn with a retryable TurnFailed when Groq keeps failing, and keeps serving', async () => {
    const failing = () => ({ kind: 'error' as const, status: 503, message: 'Service unavailable', headers: { 'retry-after': '0' } });
    fake.script('chat', () => textCompletion('This will not be spoken.'));
    fake.script('speech', failing, failing, failing);
    const { events } = await runTurn(vs, { text: 'Hello?' });
    assertWellFormed(events);
    expect(received('speech')).toHaveLength(3); // one try + GROQ_MAX_RETRIES=2
    const failed = events.at(-1)!;
    expect(failed).toMatchObject({ __typename: 'TurnFailedEvent', code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(failed.message).toMatch(/text-to-speech.*503/);
    expect(events.some((e) => e.__typename === 'AudioChunkEvent')).toBe(false);

    fake.script('chat', () => ({ kind: 'error', status: 401, message: 'Invalid API Key' }));
    const auth = await runTurn(vs, { text: 'Hello?' });
    expect(auth.events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'PROVIDER_AUTH', retryable: false });
    expect(auth.events.at(-1)!.message).toMatch(/GROQ_API_KEY/);

    fake.script('chat', () => textCompletion('Back to normal.'));
    const after = await runTurn(vs, { text: 'Hello again?' });
    expect(after.events.at(-1)).toMatchObject({ __typename: 'TurnCompletedEvent', responseText: 'Back to normal.' });
  });

  it('gives up on a call that exceeds GROQ_TIMEOUT_MS with a retryable PROVIDER_TIMEOUT', async () => {
    const impatient = await startVoiceServer({
      database,
      config: { VOICE_PROVIDER: 'groq', GROQ_API_KEY: 'gsk_test_not_a_real_key', GROQ_BASE_URL: fake.baseURL, GROQ_MAX_RETRIES: 0, GROQ_TIMEOUT_MS: 300 },
    });
    try {
      fake.hold('transcriptions'); // the fake never answers while held
      const { events } = await runTurn(impatient, { audio: toneWav(0.2).toString('base64') });
      expect(events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'PROVIDER_TIMEOUT', retryable: true });
      expect(events.at(-1)!.message).toMatch(/speech-to-text.*GROQ_TIMEOUT_MS/);
    } finally {
      fake.release('transcriptions');
      await impatient.stop();
    }
  });

  it('fails bad audio as BAD_AUDIO without calling Groq, and passes Whisper’s own rejections on as BAD_AUDIO', async () => {
    const { events } = await runTurn(vs, { audio: Buffer.from('definitely not audio').toString('base64') });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ __typename: 'TurnFailedEvent', code: 'BAD_AUDIO', retryable: false });
    expect(received('transcriptions')).toHaveLength(0);

    fake.script('transcriptions', () => ({ kind: 'error', status: 400, message: 'could not process file - is it a valid media file?' }));
    const rejected = await runTurn(vs, { audio: toneWav(0.2).toString('base64') });
    expect(rejected.events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'BAD_AUDIO' });
    expect(rejected.events.at(-1)!.message).toMatch(/valid media file/);
    // The agent starts beside speech-to-text, but it waits for the question: a failed transcription never reaches the LLM.
    expect(received('chat')).toHaveLength(0);
  });

  it('streams what the LLM says before a tool call, the call, its result and the answer, in the order they happen', async () => {
    const open = data.tickets.filter((t) => t.status === 'open').length;
    fake.script('transcriptions', () => ({ kind: 'json', body: { text: 'How many tickets are open?' } }));
    fake.script(
      'chat',
      () => textThenToolCallCompletion('One moment. I am counting the open tickets.', 'get_support_tickets', { status: 'open' }),
      (request) => textCompletion(toolContent(request)),
    );
    const { events, errors } = await runTurn(vs, { audio: toneWav(0.3, 16000).toString('base64') });
    expect(errors).toEqual([]);
    assertWellFormed(events);
    const spoken = events.filter((e) => e.__typename !== 'AudioChunkEvent');
    expect(spoken.map((e) => e.__typename)).toEqual([
      'TranscriptEvent',
      'ResponseTextEvent',
      'ResponseTextEvent',
      'ToolCallEvent',
      'ToolResultEvent',
      ...spoken.slice(5, -1).map(() => 'ResponseTextEvent'),
      'TurnCompletedEvent',
    ]);
    expect(spoken.length).toBeGreaterThan(6);
    // The sentence that ends the message before the tool call is spoken then, not held until the answer is finished.
    expect(spoken.slice(1, 3).map((e) => e.text)).toEqual(['One moment.', 'I am counting the open tickets.']);
    expect(spoken[3]).toMatchObject({ tool: 'get_support_tickets' });
    expect(JSON.parse(spoken[3].arguments!)).toEqual({ status: 'open' });
    expect(spoken[4].summary).toContain(`${open} open support ticket`);
    const answer = spoken.slice(5, -1).map((e) => e.text).join(' ');
    expect(answer).toContain(`${open} open support ticket`);
    expect(spoken.at(-1)!.responseText).toBe(`One moment. I am counting the open tickets. ${answer}`);
    // Every sentence is spoken, in order.
    const chunks = events.filter((e) => e.__typename === 'AudioChunkEvent');
    expect(chunks.map((c) => c.text)).toEqual(spoken.filter((e) => e.__typename === 'ResponseTextEvent').map((e) => e.text));
  });
});

describe('sessions', () => {
  it('barge-in: a new turn interrupts the running one, which sends no audio after that', async () => {
    fake.hold('speech');
    fake.script('chat', () => textCompletion('This is the first answer. It has two sentences.'));
    const first = await startTurn(vs.server, { text: 'First question?' });
    const firstEvents = subscribeEvents(vs.ws, first.sessionId, first.id);
    const session = subscribeEvents(vs.ws, first.sessionId);
    await fake.waitForRequests('speech', received('speech').length + 1); // turn 1 is speaking its first sentence

    fake.script('chat', () => textCompletion('Second answer.'));
    const second = await startTurn(vs.server, { sessionId: first.sessionId, text: 'Actually, second question?' });
    await firstEvents.done;
    const last = firstEvents.events.at(-1)!;
    expect(last).toMatchObject({ __typename: 'TurnFailedEvent', code: 'INTERRUPTED', retryable: true });
    expect(last.message).toContain(second.id);
    fake.release('speech');

    const secondEvents = subscribeEvents(vs.ws, second.sessionId, second.id);
    await secondEvents.done;
    assertWellFormed(firstEvents.events);
    assertWellFormed(secondEvents.events);
    expect(firstEvents.events.some((e) => e.__typename === 'AudioChunkEvent')).toBe(false);
    expect(secondEvents.events.at(-1)).toMatchObject({ __typename: 'TurnCompletedEvent', responseText: 'Second answer.' });
    await session.until((e) => e.turnId === second.id && e.__typename === 'TurnCompletedEvent');
    session.unsubscribe();
    expect(session.events).toEqual([...firstEvents.events, ...secondEvents.events]);
    // The late view of turn 1 is the same: it ended at INTERRUPTED and nothing followed.
    const replay = subscribeEvents(vs.ws, first.sessionId, first.id);
    await replay.done;
    expect(replay.events).toEqual(firstEvents.events);

    const stored = await vs.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { id status errorCode } } }`, { id: first.sessionId });
    expect(stored.data.voiceSession.turns).toEqual([
      { id: first.id, status: 'INTERRUPTED', errorCode: 'INTERRUPTED' },
      { id: second.id, status: 'COMPLETED', errorCode: null },
    ]);
  });

  it('keeps the question of a turn interrupted while the model was still answering, for the next turn', async () => {
    fake.hold('chat');
    const chats = fake.requests.filter((r) => r.endpoint === 'chat').length;
    const first = await startTurn(vs.server, { text: 'How many open tickets are there?' });
    const firstEvents = subscribeEvents(vs.ws, first.sessionId, first.id);
    await fake.waitForRequests('chat', chats + 1); // turn 1's model call is out and not answered

    const second = await startTurn(vs.server, { sessionId: first.sessionId, text: 'Only the urgent ones, please.' });
    await firstEvents.done;
    expect(firstEvents.events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'INTERRUPTED' });
    await fake.waitForRequests('chat', chats + 2); // turn 2's model call; held answers go out in arrival order
    fake.script('chat', () => textCompletion('(turn 1, interrupted)'), () => textCompletion('Two of them are urgent.'));
    fake.release('chat');
    const secondEvents = subscribeEvents(vs.ws, second.sessionId, second.id);
    await secondEvents.done;
    expect(secondEvents.events.at(-1)).toMatchObject({ __typename: 'TurnCompletedEvent', responseText: 'Two of them are urgent.' });

    // The second turn's model saw the first question (unanswered), then the second.
    const last = received('chat').at(-1)!;
    const said = last.json.messages.filter((m: { role: string }) => m.role !== 'system').map((m: { role: string; content: string }) => [m.role, m.content]);
    expect(said).toEqual([
      ['user', 'How many open tickets are there?'],
      ['user', 'Only the urgent ones, please.'],
    ]);
  });

  it('gives the LLM the conversation so far on the next turn of a session', async () => {
    fake.script(
      'chat',
      () => toolCallCompletion('get_customers', {}),
      (request) => textCompletion(toolContent(request)),
    );
    const first = await runTurn(vs, { text: 'How many customers do we have?' });
    const firstAnswer = first.events.at(-1)!.responseText!;
    expect(firstAnswer).toContain(`${data.customers.length} customers`);

    const mark = fake.requests.length;
    fake.script('chat', () => textCompletion('Those were all of them.'));
    await runTurn(vs, { sessionId: first.turn.sessionId, text: 'Is that all of them?' });
    const [next] = fake.requests.slice(mark).filter((r) => r.endpoint === 'chat');
    const roles = next.json.messages.map((m: { role: string }) => m.role);
    expect(roles).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(next.json.messages[1].content).toBe('How many customers do we have?');
    expect(next.json.messages[2].tool_calls[0].function.name).toBe('get_customers');
    expect(next.json.messages[4].content).toBe(firstAnswer);
    expect(next.json.messages[5].content).toBe('Is that all of them?');
  });
});

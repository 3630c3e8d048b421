// Subscription.voiceEvents for many subscribers at once, through the real server over real graphql-ws sockets: every
// subscriber gets every event once and in order (replay, then live), each operation gets its own shape, a source event
// is executed once per distinct operation rather than once per subscriber, errors stay per subscriber (own request
// id), and tenants never see each other's events.
import { type Client, type FormattedExecutionResult, createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type EventLog, type TurnWriter, type VoiceEvent, type VoiceEventBody, createEventLog } from '../src/voice/events';
import type { VoiceService } from '../src/voice/service';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { type TestServer, startTestServer } from './helpers/server';
import { type VoiceServer, assertWellFormed, startTurn, startVoiceServer } from './helpers/voice';

type Events = VoiceService['events'];

/** A voice service that only serves events, from whatever source the test gives it. */
const voiceWithEvents = (events: Events) => ({ events }) as unknown as VoiceService;

const SESSION_EVENTS = 'subscription($s: ID!) { voiceEvents(sessionId: $s) { __typename turnId seq } }';

interface Collector {
  results: FormattedExecutionResult<{ voiceEvents: Record<string, unknown> | null }, unknown>[];
  errors: unknown[];
  completed: boolean;
  done: Promise<void>;
}

let clients: Client[] = [];

function connect(url: string, headers: Record<string, string> = {}): Client {
  const impl = class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  };
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: impl, retryAttempts: 0, lazy: true });
  clients.push(client);
  return client;
}

function collect(client: Client, query: string, variables: Record<string, unknown>): Collector {
  const collector: Collector = { results: [], errors: [], completed: false, done: Promise.resolve() };
  collector.done = new Promise<void>((resolve) => {
    client.subscribe<{ voiceEvents: Record<string, unknown> | null }>(
      { query, variables },
      {
        next: (result) => collector.results.push(result),
        error: (error) => {
          collector.errors.push(error);
          resolve();
        },
        complete: () => {
          collector.completed = true;
          resolve();
        },
      },
    );
  });
  return collector;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

const seqs = (c: Collector) => c.results.map((r) => `${r.data?.voiceEvents?.turnId}:${r.data?.voiceEvents?.seq}`);

afterEach(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  clients = [];
});

describe('many subscribers on one event log', () => {
  let database: TestDatabase;
  let log: EventLog;
  let server: TestServer;
  let otherTenant: TestServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    log = createEventLog();
    const voice = voiceWithEvents(async (owner, sessionId, turnId) => log.subscribe(owner.tenantId, sessionId, turnId));
    server = await startTestServer({ database, services: () => ({ voice, tenantId: 'acme' }) });
    otherTenant = await startTestServer({ database, services: () => ({ voice, tenantId: 'globex' }) });
  });
  afterAll(async () => {
    await server?.stop();
    await otherTenant?.stop();
    log?.close();
    await database?.close();
  });

  const text = (t: string): VoiceEventBody => ({ type: 'TranscriptEvent', text: t });
  const completed: VoiceEventBody = { type: 'TurnCompletedEvent', responseText: 'done', timings: { sttMs: null, agentMs: 1, firstAudioMs: null, totalMs: 2 } };

  it('delivers every event to each of 30 subscribers exactly once, in order: the replay, then live, across turns', async () => {
    const first: TurnWriter = log.openTurn('acme', 'many', 'turn-1');
    first.append(text('one'));
    first.append(text('two'));
    const subscribers = Array.from({ length: 30 }, () => collect(connect(server.url), SESSION_EVENTS, { s: 'many' }));
    await until(() => subscribers.every((c) => c.results.length === 2), 'the replay');
    first.append(completed);
    const second = log.openTurn('acme', 'many', 'turn-2');
    second.append(text('three'));
    second.append(completed);
    await until(() => subscribers.every((c) => c.results.length === 5), 'the live events');
    const expected = ['turn-1:1', 'turn-1:2', 'turn-1:3', 'turn-2:1', 'turn-2:2'];
    for (const c of subscribers) {
      expect(seqs(c)).toEqual(expected);
      expect(c.results.every((r) => !r.errors)).toBe(true);
      expect(c.results.map((r) => r.data?.voiceEvents?.__typename)).toEqual([
        'TranscriptEvent',
        'TranscriptEvent',
        'TurnCompletedEvent',
        'TranscriptEvent',
        'TurnCompletedEvent',
      ]);
    }

    // A subscriber arriving after both turns ended still gets them from the first event, then what follows.
    const late = collect(connect(server.url), SESSION_EVENTS, { s: 'many' });
    await until(() => late.results.length === 5, 'the late replay');
    const third = log.openTurn('acme', 'many', 'turn-3');
    third.append(text('four'));
    await until(() => late.results.length === 6 && subscribers.every((c) => c.results.length === 6), 'the third turn');
    expect(seqs(late)).toEqual([...expected, 'turn-3:1']);
    for (const c of subscribers) expect(seqs(c)).toEqual([...expected, 'turn-3:1']);
    third.append(completed);
  });

  const SHAPES_TURN = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
  it('gives each selection and each set of variables its own result, and completes turn subscriptions after their turn', async () => {
    const turn = log.openTurn('acme', 'shapes', SHAPES_TURN);
    turn.append(text('hello'));
    const client = connect(server.url);
    const bare = collect(client, 'subscription($s: ID!) { voiceEvents(sessionId: $s) { seq } }', { s: 'shapes' });
    const rich = collect(
      connect(server.url),
      'subscription($s: ID!) { voiceEvents(sessionId: $s) { __typename sessionId seq ... on TranscriptEvent { text } } }',
      { s: 'shapes' },
    );
    const perTurn = collect(connect(server.url), 'subscription($s: ID!, $t: ID) { voiceEvents(sessionId: $s, turnId: $t) { seq } }', {
      s: 'shapes',
      t: SHAPES_TURN,
    });
    // Same document as `bare`, another session: must not get the first session's results.
    turn.append(completed);
    const otherSession = log.openTurn('acme', 'shapes-2', 'turn-o');
    otherSession.append(text('elsewhere'));
    const elsewhere = collect(connect(server.url), 'subscription($s: ID!) { voiceEvents(sessionId: $s) { seq } }', { s: 'shapes-2' });
    await until(() => bare.results.length === 2 && rich.results.length === 2 && perTurn.completed && elsewhere.results.length === 1, 'every shape');

    expect(bare.results).toEqual([{ data: { voiceEvents: { seq: 1 } } }, { data: { voiceEvents: { seq: 2 } } }]);
    expect(rich.results).toEqual([
      { data: { voiceEvents: { __typename: 'TranscriptEvent', sessionId: 'shapes', seq: 1, text: 'hello' } } },
      { data: { voiceEvents: { __typename: 'TurnCompletedEvent', sessionId: 'shapes', seq: 2 } } },
    ]);
    expect(perTurn.results).toEqual(bare.results);
    expect(perTurn.completed).toBe(true);
    expect(bare.completed).toBe(false);
    expect(elsewhere.results).toEqual([{ data: { voiceEvents: { seq: 1 } } }]);
    otherSession.append(completed);
  });

  it('keeps tenants apart on the same session id', async () => {
    const acme = collect(connect(server.url), SESSION_EVENTS, { s: 'shared-id' });
    const globex = collect(connect(otherTenant.url), SESSION_EVENTS, { s: 'shared-id' });
    const acmeTurn = log.openTurn('acme', 'shared-id', 'turn-acme');
    acmeTurn.append(text('acme only'));
    acmeTurn.append(completed);
    const globexTurn = log.openTurn('globex', 'shared-id', 'turn-globex');
    globexTurn.append(text('globex only'));
    await until(() => acme.results.length === 2 && globex.results.length === 1, 'both tenants');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seqs(acme)).toEqual(['turn-acme:1', 'turn-acme:2']);
    expect(seqs(globex)).toEqual(['turn-globex:1']);
    globexTurn.append(completed);
  });

  it('reports argument and variable errors as a result with errors, then completes', async () => {
    const malformed = collect(connect(server.url), SESSION_EVENTS, { s: 'not valid!' });
    const missing = collect(connect(server.url), SESSION_EVENTS, {});
    await Promise.all([malformed.done, missing.done]);
    expect(malformed.completed).toBe(true);
    expect(malformed.results).toHaveLength(1);
    expect(malformed.results[0].errors?.[0]).toMatchObject({
      message: expect.stringMatching(/sessionId: must be the sessionId returned by voiceTurn/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(missing.completed).toBe(true);
    expect(missing.results[0].errors?.[0]).toMatchObject({
      message: 'Variable "$s" of required type "ID!" was not provided.',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});

describe('one execution per event and operation', () => {
  let database: TestDatabase;
  let server: TestServer;
  /** What the next subscription's source yields: the same event objects for every subscriber. */
  let source: () => AsyncIterable<unknown>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const voice = voiceWithEvents((async () => source()) as unknown as Events);
    server = await startTestServer({ database, services: () => ({ voice }) });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.close();
  });

  /** An event whose fields count how often the server reads them. */
  function countedEvent(seq: number, reads: { count: number }, extra: Partial<VoiceEvent> = {}): VoiceEvent {
    const base = { type: 'TranscriptEvent', sessionId: 'counted', turnId: 'turn-c', at: new Date(0), text: 'hi', ...extra } as VoiceEvent;
    return Object.defineProperty(base, 'seq', {
      enumerable: true,
      get() {
        reads.count++;
        return seq;
      },
    });
  }

  async function* replay(events: unknown[]) {
    yield* events;
  }

  it('executes an event once for every subscriber holding the same operation, once more for another operation', async () => {
    const reads = { count: 0 };
    const events = [countedEvent(1, reads), countedEvent(2, reads), countedEvent(3, reads)];
    source = () => replay(events);
    const same = Array.from({ length: 12 }, () => collect(connect(server.url), SESSION_EVENTS, { s: 'counted' }));
    await Promise.all(same.map((c) => c.done));
    for (const c of same) expect(seqs(c)).toEqual(['turn-c:1', 'turn-c:2', 'turn-c:3']);
    expect(reads.count).toBe(3);

    const other = collect(connect(server.url), 'subscription($s: ID!) { voiceEvents(sessionId: $s) { seq at } }', { s: 'counted' });
    await other.done;
    expect(other.results.map((r) => r.data?.voiceEvents?.seq)).toEqual([1, 2, 3]);
    expect(reads.count).toBe(6);
  });

  it('never shares a result with errors: each subscriber gets its own, masked with its own request id', async () => {
    const broken = { type: 'TranscriptEvent', sessionId: 'broken', turnId: 'turn-b', seq: 1, at: new Date(0) } as VoiceEvent;
    Object.defineProperty(broken, 'text', {
      get() {
        throw new Error('the transcript store is down');
      },
    });
    source = () => replay([broken]);
    const query = 'subscription($s: ID!) { voiceEvents(sessionId: $s) { seq ... on TranscriptEvent { text } } }';
    const first = collect(connect(server.url, { 'x-request-id': 'request-one' }), query, { s: 'broken' });
    const second = collect(connect(server.url, { 'x-request-id': 'request-two' }), query, { s: 'broken' });
    await Promise.all([first.done, second.done]);
    expect(first.results[0].errors?.[0]).toMatchObject({
      message: 'Internal server error (request request-one); it has been logged.',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'request-one' },
    });
    expect(second.results[0].errors?.[0]).toMatchObject({
      message: 'Internal server error (request request-two); it has been logged.',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'request-two' },
    });
  });

  it('ends a subscription whose source fails with an error message, after the events before it', async () => {
    const reads = { count: 0 };
    source = async function* failing() {
      yield countedEvent(1, reads);
      throw new Error('the event source broke');
    };
    const failed = collect(connect(server.url), SESSION_EVENTS, { s: 'counted' });
    await failed.done;
    expect(seqs(failed)).toEqual(['turn-c:1']);
    expect(failed.completed).toBe(false);
    expect(failed.errors).toEqual([[{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', unexpected: true } }]]);
  });
});

describe('many subscribers on the real voice pipeline', () => {
  let vs: VoiceServer;
  beforeAll(async () => {
    vs = await startVoiceServer();
  });
  afterAll(async () => {
    await vs?.stop();
  });

  it('gives 20 session subscribers the same well-formed turn, each event once', async () => {
    const first = await startTurn(vs.server, { text: 'How many open tickets do we have?' });
    const query = 'subscription($s: ID!) { voiceEvents(sessionId: $s) { __typename turnId seq at } }';
    const subscribers = Array.from({ length: 20 }, () => collect(connect(vs.server.url), query, { s: first.sessionId }));
    const ended = (c: Collector, turnId: string) =>
      c.results.some((r) => r.data?.voiceEvents?.turnId === turnId && String(r.data?.voiceEvents?.__typename).startsWith('Turn'));
    await until(() => subscribers.every((c) => ended(c, first.id)), 'the first turn');
    const second = await startTurn(vs.server, { text: 'And how many customers?', sessionId: first.sessionId });
    await until(() => subscribers.every((c) => ended(c, second.id)), 'the second turn');
    const reference = subscribers[0].results;
    for (const turnId of [first.id, second.id]) {
      assertWellFormed(reference.map((r) => r.data!.voiceEvents!).filter((e) => e.turnId === turnId) as never);
    }
    for (const c of subscribers) expect(c.results).toEqual(reference);
  });
});

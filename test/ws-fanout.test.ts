// The fan-out of shared subscription results over graphql-ws (src/server/ws.ts + shared-subscriptions.ts): a clean
// result is serialised once and written to every socket behind each subscriber's own id, skipping the per-result hooks
// after a first result showed they leave it unchanged. Through the real server with raw `ws` sockets speaking
// graphql-transport-ws, so every frame is seen as sent: ids and payload text, order around results with errors,
// completion, unsubscribing mid-stream, a subscriber that stops reading (backpressure), and a plugin that changes results.
// Each case runs twice: over sources read through next(), and over sources that also offer tryNext/onReady (read
// without a promise per event; see shared-subscriptions.ts).
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { GraphQLContext } from '../src/schema/context';
import type { VoiceService } from '../src/voice/service';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { type TestServer, startTestServer } from './helpers/server';

/** One subscriber's view of a feed: how many events it has read, and whether its stream was returned. */
interface Reader {
  pulled: number;
  returned: boolean;
  /** Calls of next() (a promise each); a source offering tryNext is read without. */
  nextCalls: number;
}

/**
 * Events (any objects, the same ones for every subscriber) read by position, replayed to late subscribers, then live.
 * With `readable`, each subscription also offers tryNext/onReady.
 */
function createFeed(readable: boolean) {
  const events: unknown[] = [];
  const wakers = new Set<() => void>();
  const readers: Reader[] = [];
  let ended = false;
  const wake = () => {
    for (const waker of [...wakers]) waker();
  };
  return {
    readers,
    push(...more: unknown[]) {
      events.push(...more);
      wake();
    },
    end() {
      ended = true;
      wake();
    },
    subscribe(): AsyncIterableIterator<unknown> {
      const reader: Reader = { pulled: 0, returned: false, nextCalls: 0 };
      readers.push(reader);
      let position = 0;
      const step = (): IteratorResult<unknown> | null => {
        if (reader.returned || (ended && position >= events.length)) return { done: true, value: undefined };
        if (position >= events.length) return null;
        reader.pulled++;
        return { done: false, value: events[position++] };
      };
      const iterator = {
        next(): Promise<IteratorResult<unknown>> {
          reader.nextCalls++;
          const now = step();
          if (now) return Promise.resolve(now);
          return new Promise((resolve) => {
            const waker = () => {
              const later = step();
              if (!later) return;
              wakers.delete(waker);
              resolve(later);
            };
            wakers.add(waker);
          });
        },
        return(): Promise<IteratorResult<unknown>> {
          reader.returned = true;
          wake();
          return Promise.resolve({ done: true, value: undefined });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      if (!readable) return iterator;
      return Object.assign(iterator, {
        tryNext: step,
        onReady(callback: () => void) {
          const waker = () => {
            wakers.delete(waker);
            callback();
          };
          wakers.add(waker);
        },
      });
    },
  };
}
type Feed = ReturnType<typeof createFeed>;

interface Message {
  text: string;
  /** Whether it came as a binary frame (graphql-ws sends text frames only; browsers hand binary ones over as Blobs). */
  binary: boolean;
  message: { id?: string; type: string; payload?: any };
}

/** A raw graphql-transport-ws client: every frame kept as received (text and parsed). */
interface RawClient {
  socket: WebSocket;
  messages: Message[];
  subscribe(id: string, query: string, variables: Record<string, unknown>): void;
  complete(id: string): void;
  /** The messages of one subscription id. */
  of(id: string): Message[];
  nexts(id: string): Message[];
}

let sockets: WebSocket[] = [];

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

async function rawClient(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
  sockets.push(socket);
  const messages: Message[] = [];
  socket.on('message', (data, binary) => {
    const text = String(data);
    messages.push({ text, binary, message: JSON.parse(text) });
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await until(() => messages.some((m) => m.message.type === 'connection_ack'), 'connection_ack');
  const of = (id: string) => messages.filter((m) => m.message.id === id);
  return {
    socket,
    messages,
    subscribe: (id, query, variables) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })),
    complete: (id) => socket.send(JSON.stringify({ id, type: 'complete' })),
    of,
    nexts: (id) => of(id).filter((m) => m.message.type === 'next'),
  };
}

const event = (sessionId: string, seq: number, extra: Record<string, unknown> = {}) => ({
  type: 'TranscriptEvent',
  sessionId,
  turnId: 'turn-f',
  seq,
  at: new Date(0),
  text: `text ${seq}`,
  ...extra,
});

const SEQS = 'subscription($s: ID!) { voiceEvents(sessionId: $s) { __typename seq at } }';
const TEXTS = 'subscription($s: ID!) { voiceEvents(sessionId: $s) { seq ... on TranscriptEvent { text } } }';
const seqOf = (m: Message) => m.message.payload?.data?.voiceEvents?.seq;
/** The payload's text exactly as it is in the frame. */
const payloadText = (m: Message) => {
  const at = m.text.indexOf('"payload":');
  return m.text.slice(at + '"payload":'.length, -1);
};

/** Counts what the per-result hooks see (one onNext per result that travels them), with and without errors. */
function countingPlugin(counts: { clean: number; errors: number }): Plugin<GraphQLContext> {
  return {
    onSubscribe: () => ({
      onSubscribeResult: (payload) =>
        handleStreamOrSingleExecutionResult(payload, ({ result }) => {
          if (result.errors?.length) counts.errors++;
          else counts.clean++;
        }),
    }),
  };
}

/** Changes every result (as a tracing plugin might): results must then keep going through the hooks. */
const taggingPlugin: Plugin<GraphQLContext> = {
  onSubscribe: () => ({
    onSubscribeResult: (payload) =>
      handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => setResult({ ...result, extensions: { tagged: true } })),
  }),
};

describe.each([
  ['read through next()', false],
  ['read through tryNext/onReady', true],
])('fan-out of shared results over graphql-ws, sources %s', (_kind, readable) => {
  let database: TestDatabase;
  let server: TestServer;
  let tagging: TestServer;
  const feeds = new Map<string, Feed>();
  const feed = (sessionId: string) => {
    let f = feeds.get(sessionId);
    if (!f) feeds.set(sessionId, (f = createFeed(readable)));
    return f;
  };
  const counts = { clean: 0, errors: 0 };

  beforeAll(async () => {
    database = await createTestDatabase();
    const voice = { events: async (_owner: unknown, sessionId: string) => feed(sessionId).subscribe() } as unknown as VoiceService;
    server = await startTestServer({ database, services: () => ({ voice }), plugins: [countingPlugin(counts)] });
    tagging = await startTestServer({ database, services: () => ({ voice }), plugins: [taggingPlugin] });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await server?.stop();
    await tagging?.stop();
    await database?.close();
  });
  beforeEach(() => {
    for (const socket of sockets) socket.terminate();
    sockets = [];
    counts.clean = 0;
    counts.errors = 0;
  });

  it('sends every subscriber its own id and the same payload text, framed exactly as graphql-ws frames a message', async () => {
    const f = feed('ids');
    f.push(event('ids', 1));
    const a = await rawClient(server.url);
    const b = await rawClient(server.url);
    const idA = 'a';
    // An id that JSON has to escape.
    const idB = 'b "quoted" \\ é';
    a.subscribe(idA, SEQS, { s: 'ids' });
    b.subscribe(idB, SEQS, { s: 'ids' });
    await until(() => a.nexts(idA).length === 1 && b.nexts(idB).length === 1, 'the replayed event');
    f.push(event('ids', 2), event('ids', 3));
    f.push(event('ids', 4));
    await until(() => a.nexts(idA).length === 4 && b.nexts(idB).length === 4, 'the live events');
    // Text outside ASCII (two-, three- and four-byte UTF-8): the payload goes out as bytes encoded once.
    const c = await rawClient(server.url);
    c.subscribe('c', TEXTS, { s: 'ids' });
    await until(() => c.nexts('c').length === 4, 'the replay with texts');
    f.push(event('ids', 5, { text: 'Grüße ✓ 😀' }));
    await until(() => c.nexts('c').length === 5 && a.nexts(idA).length === 5, 'the event with a text outside ASCII');
    expect(c.nexts('c').map((m) => m.message.payload.data.voiceEvents.text)).toEqual(['text 1', 'text 2', 'text 3', 'text 4', 'Grüße ✓ 😀']);
    for (const m of c.nexts('c')) expect(m.text).toBe(JSON.stringify({ id: 'c', type: 'next', payload: JSON.parse(payloadText(m)) }));
    expect([...a.messages, ...b.messages, ...c.messages].filter((m) => m.binary)).toEqual([]);

    for (const [client, id] of [
      [a, idA],
      [b, idB],
    ] as const) {
      const nexts = client.nexts(id);
      expect(nexts.map(seqOf)).toEqual([1, 2, 3, 4, 5]);
      for (const m of nexts) {
        expect(m.message.id).toBe(id);
        expect(m.message.payload).toEqual({ data: { voiceEvents: { __typename: 'TranscriptEvent', seq: seqOf(m), at: new Date(0).toISOString() } } });
        // Byte for byte what graphql-ws writes (JSON.stringify of { id, type, payload }): pins the frame built in ws.ts.
        expect(m.text).toBe(JSON.stringify({ id, type: 'next', payload: JSON.parse(payloadText(m)) }));
      }
    }
    expect(a.nexts(idA).map(payloadText)).toEqual(b.nexts(idB).map(payloadText));
    // Only each subscriber's first result went through the per-result hooks; the other ten were written directly.
    expect(counts).toEqual({ clean: 3, errors: 0 });
    expect(f.readers.map((r) => r.nextCalls === 0)).toEqual([readable, readable, readable]);
  });

  it('gives a result with errors to each subscriber masked with its own request id, in order between shared results', async () => {
    const f = feed('errors');
    const broken = event('errors', 3);
    Object.defineProperty(broken, 'text', {
      get() {
        throw new Error('the transcript store is down');
      },
    });
    const one = await rawClient(server.url, { 'x-request-id': 'fanout-one' });
    const two = await rawClient(server.url, { 'x-request-id': 'fanout-two' });
    const query = 'subscription($s: ID!) { voiceEvents(sessionId: $s) { seq ... on TranscriptEvent { text } } }';
    one.subscribe('1', query, { s: 'errors' });
    two.subscribe('1', query, { s: 'errors' });
    await until(() => f.readers.length === 2, 'both subscriptions');
    f.push(event('errors', 1), event('errors', 2), broken, event('errors', 4), event('errors', 5));
    f.end();
    await until(() => [one, two].every((c) => c.of('1').some((m) => m.message.type === 'complete')), 'both completions');

    for (const [client, requestId] of [
      [one, 'fanout-one'],
      [two, 'fanout-two'],
    ] as const) {
      const messages = client.of('1');
      expect(messages.map((m) => m.message.type)).toEqual(['next', 'next', 'next', 'next', 'next', 'complete']);
      const payloads = messages.slice(0, 5).map((m) => m.message.payload);
      expect(payloads.map((p) => p.data?.voiceEvents?.seq ?? null)).toEqual([1, 2, null, 4, 5]);
      expect(payloads[3].data.voiceEvents).toEqual({ seq: 4, text: 'text 4' });
      expect(payloads[2].errors).toEqual([
        expect.objectContaining({
          message: `Internal server error (request ${requestId}); it has been logged.`,
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
        }),
      ]);
      for (const p of payloads.filter((_, i) => i !== 2)) expect(p.errors).toBeUndefined();
    }
    // Per subscriber: the first clean result (the probe) and the result with errors went through the hooks.
    expect(counts).toEqual({ clean: 2, errors: 2 });
  });

  it('completes after the last event, live or replayed, and sends nothing after the complete frame', async () => {
    const f = feed('complete');
    f.push(event('complete', 1), event('complete', 2));
    const client = await rawClient(server.url);
    client.subscribe('c', SEQS, { s: 'complete' });
    await until(() => client.nexts('c').length === 2, 'the replay');
    f.push(event('complete', 3), event('complete', 4));
    f.end();
    await until(() => client.of('c').some((m) => m.message.type === 'complete'), 'the completion');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.of('c').map((m) => [m.message.type, seqOf(m)])).toEqual([
      ['next', 1],
      ['next', 2],
      ['next', 3],
      ['next', 4],
      ['complete', undefined],
    ]);
    expect(f.readers[0].returned || f.readers[0].pulled === 4).toBe(true);
  });

  it('stops at once when the client completes a subscription mid-stream, returns its source, and accepts the id again', async () => {
    const f = feed('unsubscribe');
    const leaving = await rawClient(server.url);
    const staying = await rawClient(server.url);
    leaving.subscribe('x', SEQS, { s: 'unsubscribe' });
    await until(() => f.readers.length === 1, 'the first subscription');
    staying.subscribe('y', SEQS, { s: 'unsubscribe' });
    await until(() => f.readers.length === 2, 'the second subscription');
    f.push(event('unsubscribe', 1), event('unsubscribe', 2));
    await until(() => leaving.nexts('x').length === 2 && staying.nexts('y').length === 2, 'the first events');

    leaving.complete('x');
    await until(() => f.readers[0].returned, 'the source returned');
    f.push(event('unsubscribe', 3), event('unsubscribe', 4));
    await until(() => staying.nexts('y').length === 4, 'the later events');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Nothing for x after the client completed it: no next, and no complete either (the client ended it).
    expect(leaving.of('x').map((m) => m.message.type)).toEqual(['next', 'next']);
    expect(staying.nexts('y').map(seqOf)).toEqual([1, 2, 3, 4]);

    leaving.subscribe('x', SEQS, { s: 'unsubscribe' });
    await until(() => leaving.nexts('x').length === 6, 'the new subscription under the same id');
    expect(leaving.nexts('x').map(seqOf)).toEqual([1, 2, 1, 2, 3, 4]);
  });

  it('holds back a subscriber that stops reading, without reading ahead its events, while the others get everything', async () => {
    const f = feed('slow');
    // 120 events of 256 KiB: 30 MiB that a server without backpressure would queue for the paused socket.
    const data = 'A'.repeat(256 * 1024);
    const chunk = (seq: number) => ({ ...event('slow', seq), type: 'AudioChunkEvent', index: seq, mimeType: 'audio/wav', sampleRate: 16_000, data });
    const query = 'subscription($s: ID!) { voiceEvents(sessionId: $s) { seq ... on AudioChunkEvent { data } } }';
    const slow = await rawClient(server.url);
    const fast = await rawClient(server.url);
    slow.subscribe('s', query, { s: 'slow' });
    await until(() => f.readers.length === 1, 'the slow subscription');
    fast.subscribe('f', query, { s: 'slow' });
    await until(() => f.readers.length === 2, 'the fast subscription');
    f.push(chunk(1));
    await until(() => slow.nexts('s').length === 1 && fast.nexts('f').length === 1, 'the first event');

    slow.socket.pause();
    for (let seq = 2; seq <= 120; seq++) f.push(chunk(seq));
    await until(() => fast.nexts('f').length === 120, 'every event for the subscriber that reads');
    expect(fast.nexts('f').map(seqOf)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // What the kernel's socket buffers hold (here 4-5 MiB: 18-22 events) plus the 64 KiB the server queues; the rest
    // stays in the feed, unread (without backpressure all 120 are read and queued in the server's memory).
    const [slowReader] = f.readers;
    expect(slowReader.pulled).toBeLessThan(60);

    slow.socket.resume();
    f.end();
    await until(() => slow.of('s').some((m) => m.message.type === 'complete'), 'the slow subscriber catching up');
    expect(slow.nexts('s').map(seqOf)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(slow.nexts('s').every((m) => m.message.payload.data.voiceEvents.data === data)).toBe(true);
  });

  it('keeps every result on the per-result hooks when a plugin changes clean results', async () => {
    const f = feed('tagged');
    const client = await rawClient(tagging.url);
    client.subscribe('t', SEQS, { s: 'tagged' });
    await until(() => f.readers.length === 1, 'the subscription');
    f.push(event('tagged', 1), event('tagged', 2), event('tagged', 3));
    await until(() => client.nexts('t').length === 3, 'the events');
    expect(client.nexts('t').map((m) => m.message.payload)).toEqual(
      [1, 2, 3].map((seq) => ({ data: { voiceEvents: { __typename: 'TranscriptEvent', seq, at: new Date(0).toISOString() } }, extensions: { tagged: true } })),
    );
  });
});

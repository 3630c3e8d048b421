// A fake Groq-compatible HTTP server on 127.0.0.1 for the voice tests: the real groq-sdk and ChatGroq talk to it via
// baseURL. It records every request (parsed), answers from per-endpoint scripts (then defaults), and can hold a
// response until the test releases it, so ordering tests (barge-in) need no timers.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeWav } from '../../src/voice/audio';

export type Endpoint = 'transcriptions' | 'speech' | 'chat';

export interface RecordedRequest {
  endpoint: Endpoint;
  headers: Record<string, string | string[] | undefined>;
  /** JSON body (speech, chat) or multipart fields (transcriptions; the file as bytes). */
  json?: any;
  fields?: Record<string, string>;
  file?: { name: string; type: string; bytes: Buffer };
}

export type Reply =
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'wav'; bytes: Buffer }
  /** Server-sent events; when gate is given, the stream pauses before chunk gateAt until the gate resolves. */
  | { kind: 'sse'; chunks: unknown[]; gateAt?: number; gate?: Promise<void> }
  | { kind: 'error'; status: number; message: string; headers?: Record<string, string> };

export type Script = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface FakeGroq {
  baseURL: string;
  requests: RecordedRequest[];
  /** Queue one-shot answers per endpoint; when the queue is empty the default answer is used. */
  script(endpoint: Endpoint, ...scripts: Script[]): void;
  /** Replace the default answer of an endpoint. */
  setDefault(endpoint: Endpoint, script: Script): void;
  /** Hold every response of an endpoint until release() (requests are still recorded at once). */
  hold(endpoint: Endpoint): void;
  release(endpoint: Endpoint): void;
  /** Resolves when the endpoint has received n requests in total. */
  waitForRequests(endpoint: Endpoint, n: number): Promise<void>;
  close(): Promise<void>;
}

/** A short, valid WAV of a tone (what the fake "speaks"): 24 kHz like Orpheus. */
export function toneWav(seconds = 0.2, sampleRate = 24000): Buffer {
  const samples = new Int16Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  return encodeWav({ sampleRate, samples });
}

let completionCounter = 0;

/** SSE chunks of a streamed chat completion that answers with text, split in small pieces like a real stream. */
export function textCompletion(text: string, model = 'openai/gpt-oss-20b'): Reply {
  const id = `chatcmpl-${++completionCounter}`;
  const base = { id, object: 'chat.completion.chunk', created: 1, model };
  const pieces = text.match(/.{1,12}/gs) ?? [''];
  return {
    kind: 'sse',
    chunks: [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...pieces.map((p) => ({ ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], x_groq: { usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 } } },
    ],
  };
}

/** A streamed text answer that pauses after `first` until `gate` resolves (to observe streaming without timers). */
export function gatedTextCompletion(first: string, rest: string, gate: Promise<void>): Reply {
  const head = textCompletion(first) as Extract<Reply, { kind: 'sse' }>;
  const tail = textCompletion(rest) as Extract<Reply, { kind: 'sse' }>;
  // head without its finish chunk, then tail without its role chunk.
  const chunks = [...head.chunks.slice(0, -1), ...tail.chunks.slice(1)];
  return { kind: 'sse', chunks, gateAt: head.chunks.length - 1, gate };
}

/** SSE chunks of a streamed chat completion that calls one tool. */
export function toolCallCompletion(name: string, args: Record<string, unknown>, model = 'openai/gpt-oss-20b'): Reply {
  const id = `chatcmpl-${++completionCounter}`;
  const base = { id, object: 'chat.completion.chunk', created: 1, model };
  const callId = `call_${completionCounter}`;
  const json = JSON.stringify(args);
  return {
    kind: 'sse',
    chunks: [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: callId, type: 'function', function: { name, arguments: '' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: json.slice(0, 5) } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: json.slice(5) } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    ],
  };
}

/** A streamed answer that says something first and then calls a tool in the same message (as LLMs often do). */
export function textThenToolCallCompletion(text: string, name: string, args: Record<string, unknown>, model = 'openai/gpt-oss-20b'): Reply {
  const id = `chatcmpl-${++completionCounter}`;
  const base = { id, object: 'chat.completion.chunk', created: 1, model };
  const words = text.split(/(?<= )/);
  return {
    kind: 'sse',
    chunks: [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...words.map((word) => ({ ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })),
      {
        ...base,
        choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: `call_${completionCounter}`, type: 'function', function: { name, arguments: JSON.stringify(args) } }] }, finish_reason: null }],
      },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    ],
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function send(res: ServerResponse, reply: Reply) {
  switch (reply.kind) {
    case 'json':
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body));
      return;
    case 'wav':
      res.writeHead(200, { 'content-type': 'audio/wav' }).end(reply.bytes);
      return;
    case 'error':
      res
        .writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
        .end(JSON.stringify({ error: { message: reply.message, type: 'fake_error' } }));
      return;
    case 'sse':
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const [i, chunk] of reply.chunks.entries()) {
        if (reply.gate && i === reply.gateAt) await reply.gate;
        if (res.destroyed) return;
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      res.end('data: [DONE]\n\n');
  }
}

export async function startFakeGroq(): Promise<FakeGroq> {
  const requests: RecordedRequest[] = [];
  const queues: Record<Endpoint, Script[]> = { transcriptions: [], speech: [], chat: [] };
  const defaults: Record<Endpoint, Script> = {
    transcriptions: () => ({ kind: 'json', body: { text: 'How many open tickets do we have?' } }),
    speech: () => ({ kind: 'wav', bytes: toneWav() }),
    chat: () => textCompletion('I have nothing scripted to say.'),
  };
  const held: Partial<Record<Endpoint, { waiting: (() => void)[] }>> = {};
  const waiters: { endpoint: Endpoint; n: number; resolve: () => void }[] = [];

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      const endpoint: Endpoint | null =
        path === '/openai/v1/audio/transcriptions' ? 'transcriptions' : path === '/openai/v1/audio/speech' ? 'speech' : path === '/openai/v1/chat/completions' ? 'chat' : null;
      if (!endpoint || req.method !== 'POST') {
        await send(res, { kind: 'error', status: 404, message: `no route ${req.method} ${path}` });
        return;
      }
      const body = await readBody(req);
      const recorded: RecordedRequest = { endpoint, headers: req.headers };
      if (endpoint === 'transcriptions') {
        // Parse the multipart body with the platform's own parser.
        const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: new Uint8Array(body) }).formData();
        recorded.fields = {};
        for (const [name, value] of form.entries()) {
          if (typeof value === 'string') recorded.fields[name] = value;
          else recorded.file = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
        }
      } else {
        recorded.json = JSON.parse(body.toString('utf8'));
      }
      requests.push(recorded);
      for (const w of [...waiters]) {
        if (w.endpoint === endpoint && requests.filter((r) => r.endpoint === endpoint).length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      const gate = held[endpoint];
      if (gate) await new Promise<void>((resolve) => gate.waiting.push(resolve));
      const script = queues[endpoint].shift() ?? defaults[endpoint];
      const reply = await script(recorded);
      if (!res.destroyed) await send(res, reply);
    })().catch((error) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}`,
    requests,
    script(endpoint, ...scripts) {
      queues[endpoint].push(...scripts);
    },
    setDefault(endpoint, script) {
      defaults[endpoint] = script;
    },
    hold(endpoint) {
      held[endpoint] ??= { waiting: [] };
    },
    release(endpoint) {
      const gate = held[endpoint];
      delete held[endpoint];
      for (const go of gate?.waiting ?? []) go();
    },
    waitForRequests(endpoint, n) {
      if (requests.filter((r) => r.endpoint === endpoint).length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ endpoint, n, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const endpoint of Object.keys(held) as Endpoint[]) {
          const gate = held[endpoint];
          delete held[endpoint];
          for (const go of gate?.waiting ?? []) go();
        }
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

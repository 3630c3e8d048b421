// `npm run voice`: a command-line voice client. Sends one question (a recording or text) with Mutation.voiceTurn,
// follows Subscription.voiceEvents over graphql-ws, prints the stream and writes the spoken answer as one WAV.
import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { AUDIO_FORMATS, type AudioFormat, joinWavs } from './audio';

// The server's own PORT (the same variable `npm start` reads), so that one exported PORT serves both.
const DEFAULT_URL = `http://127.0.0.1:${process.env.PORT || 4000}/graphql`;

const USAGE = `Usage: npm run voice -- [--url ${DEFAULT_URL}] (--in question.wav | --text "question")
                      [--out answer.wav] [--session id] [--voice troy] [--format WAV|WEBM|OGG|MP3|FLAC]

Sends one question to the voice API, prints transcript, tool calls, sentences and timings as they stream,
and writes the spoken answer to --out (default answer.wav). --url defaults to the server on this machine at
PORT (${process.env.PORT || 4000}). Exits 1 when the turn fails.`;

interface Event {
  __typename: string;
  seq: number;
  text?: string;
  tool?: string;
  arguments?: string;
  summary?: string;
  index?: number;
  data?: string;
  responseText?: string;
  timings?: { sttMs: number | null; agentMs: number | null; firstAudioMs: number | null; totalMs: number };
  code?: string;
  message?: string;
  retryable?: boolean;
}

const EVENTS = `subscription($sessionId: ID!, $turnId: ID) {
  voiceEvents(sessionId: $sessionId, turnId: $turnId) {
    __typename seq
    ... on TranscriptEvent { text }
    ... on ToolCallEvent { tool arguments }
    ... on ToolResultEvent { tool summary }
    ... on ResponseTextEvent { text }
    ... on AudioChunkEvent { index data text }
    ... on TurnCompletedEvent { responseText timings { sttMs agentMs firstAudioMs totalMs } }
    ... on TurnFailedEvent { code message retryable }
  }
}`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function formatOf(path: string, given?: string): AudioFormat {
  const format = (given ?? extname(path).slice(1)).toUpperCase();
  const normalized = format === 'MPEG' ? 'MP3' : format;
  if (!(AUDIO_FORMATS as readonly string[]).includes(normalized)) {
    fail(`--format: cannot tell the audio format of ${path}; pass --format with one of ${AUDIO_FORMATS.join(', ')}`);
  }
  return normalized as AudioFormat;
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string', default: DEFAULT_URL },
        in: { type: 'string' },
        text: { type: 'string' },
        out: { type: 'string', default: 'answer.wav' },
        session: { type: 'string' },
        voice: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if ((values.in == null) === (values.text == null)) fail(`Give exactly one of --in or --text.\n\n${USAGE}`);
  let httpUrl: URL;
  try {
    httpUrl = new URL(values.url!);
  } catch {
    fail(`--url: ${values.url} is not a URL; e.g. ${DEFAULT_URL}`);
  }

  const input: Record<string, unknown> = { sessionId: values.session, voice: values.voice };
  if (values.text != null) input.text = values.text;
  else {
    let bytes: Buffer;
    try {
      bytes = readFileSync(values.in!);
    } catch (error) {
      fail(`--in: cannot read ${values.in}: ${(error as Error).message}`);
    }
    input.audio = bytes.toString('base64');
    input.audioFormat = formatOf(values.in!, values.format);
  }

  let response: Response;
  try {
    response = await fetch(httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: 'mutation($input: VoiceTurnInput!) { voiceTurn(input: $input) { id sessionId status } }', variables: { input } }),
    });
  } catch (error) {
    fail(`cannot reach ${httpUrl}: ${(error as Error).cause ?? (error as Error).message}. Is the server running (npm start)?`);
  }
  const body = (await response.json().catch(() => ({}))) as { data?: { voiceTurn?: { id: string; sessionId: string } }; errors?: { message: string }[] };
  if (body.errors?.length || !body.data?.voiceTurn) fail(`voiceTurn failed: ${body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${response.status}`}`);
  const turn = body.data.voiceTurn;
  process.stdout.write(`session ${turn.sessionId}  turn ${turn.id}\n`);

  const wsUrl = new URL(httpUrl);
  wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = createClient({ url: wsUrl.toString(), webSocketImpl: WebSocket, retryAttempts: 0 });
  const audio: Buffer[] = [];
  let outcome: Event | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      client.subscribe<{ voiceEvents: Event }>(
        { query: EVENTS, variables: { sessionId: turn.sessionId, turnId: turn.id } },
        {
          next: ({ data, errors }) => {
            if (errors?.length) reject(new Error(errors.map((e) => e.message).join('; ')));
            const e = data?.voiceEvents;
            if (!e) return;
            switch (e.__typename) {
              case 'TranscriptEvent':
                process.stdout.write(`you:       ${e.text}\n`);
                break;
              case 'ToolCallEvent':
                process.stdout.write(`tool call: ${e.tool} ${e.arguments}\n`);
                break;
              case 'ToolResultEvent':
                process.stdout.write(`tool said: ${e.summary}\n`);
                break;
              case 'ResponseTextEvent':
                process.stdout.write(`assistant: ${e.text}\n`);
                break;
              case 'AudioChunkEvent':
                audio.push(Buffer.from(e.data!, 'base64'));
                process.stdout.write(`audio:     chunk ${e.index} (${Math.round(Buffer.byteLength(e.data!, 'base64') / 1024)} KB)\n`);
                break;
              case 'TurnCompletedEvent':
              case 'TurnFailedEvent':
                outcome = e;
                break;
            }
          },
          error: (error) => reject(error instanceof Error ? error : new Error(`connection closed (${(error as { code?: number })?.code ?? 'unknown'})`)),
          complete: () => resolve(),
        },
      );
    });
  } catch (error) {
    fail(`voiceEvents failed: ${(error as Error).message}`);
  } finally {
    await client.dispose();
  }

  const end = outcome as Event | null;
  if (!end) fail('the event stream ended without an outcome');
  if (end.__typename === 'TurnFailedEvent') {
    fail(`turn failed: ${end.code}: ${end.message}${end.retryable ? ' (retryable)' : ''}`);
  }
  const t = end.timings!;
  process.stdout.write(
    `timings:   stt ${t.sttMs ?? '-'} ms, agent ${t.agentMs ?? '-'} ms, first audio ${t.firstAudioMs ?? '-'} ms, total ${t.totalMs} ms\n`,
  );
  if (audio.length) {
    writeFileSync(values.out!, joinWavs(audio));
    process.stdout.write(`wrote ${values.out} (${audio.length} chunk${audio.length === 1 ? '' : 's'})\n`);
  } else {
    process.stdout.write('no audio came back (the server has no text-to-speech: install espeak-ng or configure Groq)\n');
  }
}

main().catch((error) => fail(`voice client failed: ${(error as Error).stack ?? error}`));

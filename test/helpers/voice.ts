// Voice test helpers: a real server with a VoiceService, a graphql-ws client over a real socket, and event collectors.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config';
import { encodeWav } from '../../src/voice/audio';
import type { TtsProvider } from '../../src/voice/providers/types';
import { type ProviderOverrides, createVoiceProviders } from '../../src/voice/providers';
import type { VoiceConfig, VoiceService, VoiceServiceOptions } from '../../src/voice/service';
import { createVoiceService } from '../../src/voice/service';
import type { TestDatabase } from './database';
import { type TestServer, type TestServerOptions, startTestServer } from './server';

export interface VoiceServer {
  server: TestServer;
  voice: VoiceService;
  ws: Client;
  stop(): Promise<void>;
}

export interface VoiceServerOptions {
  data?: string;
  database?: TestDatabase;
  config?: Partial<VoiceConfig>;
  /** Service options, and providers that replace the configured ones (stt, tts, model). */
  extra?: Partial<Omit<VoiceServiceOptions, 'database' | 'connectors' | 'providers' | 'log'>> & ProviderOverrides;
  /** Server options passed through (auth, response cache, headers of query()). */
  server?: Pick<TestServerOptions, 'auth' | 'http' | 'headers' | 'log' | 'metrics'>;
  /** Told of every request to the provider (the app's metrics.voice.providerRequest). */
  providerMetrics?: (request: { endpoint: string; outcome: string; retry: boolean }) => void;
  /** connection_init payload of the graphql-ws client (e.g. { authorization }). */
  connectionParams?: Record<string, unknown>;
}

export function voiceConfig(overrides: Partial<VoiceConfig> = {}): VoiceConfig {
  const base = loadConfig({ VOICE_PROVIDER: overrides.VOICE_PROVIDER ?? 'local' });
  return { ...base, ...overrides };
}

export async function startVoiceServer(options: VoiceServerOptions = {}): Promise<VoiceServer> {
  let voice: VoiceService | undefined;
  const server = await startTestServer({
    ...options.server,
    data: options.data,
    database: options.database,
    services: async (base, database) => {
      const { stt, tts, model, ...serviceOptions } = options.extra ?? {};
      voice = await createVoiceService({
        database,
        connectors: base.connectors,
        log: base.log,
        providers: createVoiceProviders(voiceConfig(options.config), { ...base, onProviderRequest: options.providerMetrics }, { stt, tts, model }),
        databaseUrl: database.url,
        ...serviceOptions,
      });
      return { voice };
    },
  });
  const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: options.connectionParams });
  return {
    server,
    voice: voice!,
    ws,
    async stop() {
      await ws.dispose();
      await voice?.close();
      await server.stop();
    },
  };
}

export const VOICE_TURN = `mutation($input: VoiceTurnInput!) { voiceTurn(input: $input) { id sessionId status } }`;

export const VOICE_EVENTS = `subscription($sessionId: ID!, $turnId: ID) {
  voiceEvents(sessionId: $sessionId, turnId: $turnId) {
    __typename sessionId turnId seq at
    ... on TranscriptEvent { text }
    ... on ToolCallEvent { tool arguments }
    ... on ToolResultEvent { tool summary }
    ... on ResponseTextEvent { text }
    ... on AudioChunkEvent { index mimeType sampleRate data text }
    ... on TurnCompletedEvent { responseText timings { sttMs agentMs firstAudioMs totalMs } }
    ... on TurnFailedEvent { code message retryable }
  }
}`;

export interface VoiceEventData {
  __typename: string;
  sessionId: string;
  turnId: string;
  seq: number;
  at: string;
  text?: string;
  tool?: string;
  arguments?: string;
  summary?: string;
  index?: number;
  mimeType?: string;
  sampleRate?: number;
  data?: string;
  responseText?: string;
  timings?: { sttMs: number | null; agentMs: number | null; firstAudioMs: number | null; totalMs: number };
  code?: string;
  message?: string;
  retryable?: boolean;
}

export interface Collected {
  events: VoiceEventData[];
  errors: { message: string; extensions?: Record<string, unknown> }[];
  /** Resolves when the subscription completes (a turn subscription completes after the turn's last event). */
  done: Promise<void>;
  /** Resolves once an event matching the predicate has arrived. */
  until(predicate: (e: VoiceEventData) => boolean): Promise<VoiceEventData>;
  unsubscribe(): void;
}

export function subscribeEvents(ws: Client, sessionId: string, turnId?: string | null): Collected {
  const events: VoiceEventData[] = [];
  const errors: Collected['errors'] = [];
  const watchers: { predicate: (e: VoiceEventData) => boolean; resolve: (e: VoiceEventData) => void }[] = [];
  let unsubscribe = () => {};
  const done = new Promise<void>((resolve, reject) => {
    unsubscribe = ws.subscribe<{ voiceEvents: VoiceEventData }>(
      { query: VOICE_EVENTS, variables: { sessionId, turnId: turnId ?? null } },
      {
        next: (result) => {
          if (result.errors) errors.push(...(result.errors as Collected['errors']));
          const event = result.data?.voiceEvents;
          if (!event) return;
          events.push(event);
          for (const w of [...watchers]) {
            if (w.predicate(event)) {
              watchers.splice(watchers.indexOf(w), 1);
              w.resolve(event);
            }
          }
        },
        error: (error) => reject(error),
        complete: () => resolve(),
      },
    );
  });
  return {
    events,
    errors,
    done,
    until(predicate) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => watchers.push({ predicate, resolve }));
    },
    unsubscribe: () => unsubscribe(),
  };
}

export async function startTurn(server: TestServer, input: Record<string, unknown>): Promise<{ id: string; sessionId: string; status: string }> {
  const response = await server.query(VOICE_TURN, { input });
  if (response.errors?.length) throw new Error(`voiceTurn failed: ${JSON.stringify(response.errors)}`);
  return response.data.voiceTurn;
}

/** Starts a turn and collects all its events over graphql-ws (subscribing right after the mutation returns). */
export async function runTurn(vs: VoiceServer, input: Record<string, unknown>) {
  const turn = await startTurn(vs.server, input);
  const collected = subscribeEvents(vs.ws, turn.sessionId, turn.id);
  await collected.done;
  return { turn, events: collected.events, errors: collected.errors };
}

export const isTerminal = (e: VoiceEventData) => e.__typename === 'TurnCompletedEvent' || e.__typename === 'TurnFailedEvent';

/** The checks every finished turn must pass: seq 1..n without gaps, one terminal event, and it is last. */
export function assertWellFormed(events: VoiceEventData[]): void {
  const seqs = events.map((e) => e.seq);
  const expected = events.map((_, i) => i + 1);
  if (JSON.stringify(seqs) !== JSON.stringify(expected)) throw new Error(`seq is not 1..n: ${seqs.join(',')}`);
  const terminals = events.filter(isTerminal);
  if (terminals.length !== 1 || !isTerminal(events[events.length - 1])) {
    throw new Error(`expected exactly one terminal event, last: ${events.map((e) => e.__typename).join(',')}`);
  }
}

/** A TTS that speaks instantly except while the test holds it: lets a turn be "still running" without timers. */
export function gatedTts() {
  let gate: Promise<void> | null = null;
  let open: () => void = () => {};
  const tts: TtsProvider = {
    name: 'gated',
    maxChars: 200,
    async synthesize(_text, { signal }) {
      if (gate) await Promise.race([gate, new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }))]);
      return { wav: encodeWav({ sampleRate: 16000, samples: new Int16Array(1600) }), sampleRate: 16000, mimeType: 'audio/wav' };
    },
  };
  return {
    tts,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = null;
      open();
    },
  };
}

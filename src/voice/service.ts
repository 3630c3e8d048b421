// The VoiceService the app holds: picks providers from configuration, builds the agent, starts turns in the background
// (barge-in cancels a session's running turn), stores sessions and turns in the database, and serves the event log.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { and, asc, eq, lte, ne, sql } from 'drizzle-orm';
import { createCheckpointer } from '../agent/checkpointer';
import { type TurnLimiter, TurnLimitedError } from './turn-limits';
import { type AgentGraph, createAgentGraph } from '../agent/graph';
import { createGroqChatModel } from '../agent/groq-model';
import { domainGrammar } from '../agent/intents';
import { LocalIntentModel } from '../agent/local-model';
import { createAgentTools } from '../agent/tools';
import type { Config } from '../config';
import type { Connectors } from '../connectors';
import type { Database } from '../db/client';
import { voiceSessions, voiceTurns } from '../db/schema';
import { UserInputError } from '../errors';
import type { Logger } from '../logger';
import { type AudioFormat, decodeBase64Audio } from './audio';
import { VoiceError } from './errors';
import { type EventLog, type Subscription, type TurnTimings, createEventLog } from './events';
import { type TurnOutcome, runTurn } from './pipeline';
import { type SharedTurns, createSharedTurns } from './redis-events';
import { createGroqClient } from './providers/groq/client';
import { createGroqStt } from './providers/groq/stt';
import { createGroqTts } from './providers/groq/tts';
import { createLocalStt } from './providers/local/stt';
import { createLocalTts } from './providers/local/tts';
import type { SttProvider, TtsProvider } from './providers/types';

/** How long a new turn waits for the session's previous turn on another instance to write its memory, and how often it looks. */
const OTHER_INSTANCE_WAIT_MS = 4000;
const OTHER_INSTANCE_POLL_MS = 20;

export type VoiceConfig = Pick<
  Config,
  | 'VOICE_PROVIDER'
  | 'GROQ_API_KEY'
  | 'GROQ_BASE_URL'
  | 'GROQ_STT_MODEL'
  | 'GROQ_TTS_MODEL'
  | 'GROQ_TTS_VOICE'
  | 'GROQ_LLM_MODEL'
  | 'GROQ_TIMEOUT_MS'
  | 'GROQ_MAX_RETRIES'
>;

/** Where turn outcomes are counted (the app's metrics.voice, server/metrics.ts; declared here: voice imports no server code). */
export interface VoiceMetrics {
  turnFinished(outcome: TurnOutcome): void;
}

export interface VoiceServiceOptions {
  database: Database;
  connectors: Connectors;
  config: VoiceConfig;
  log: Logger;
  /** postgres:// URL of the database, for the agent memory's pg pool (derived when absent). */
  databaseUrl?: string;
  /** Connections of the agent memory's pg pool on PostgreSQL (AGENT_MEMORY_POOL_SIZE; default 4). */
  memoryPoolSize?: number;
  /** How long a finished turn's events stay replayable (default 10 minutes). */
  eventRetentionMs?: number;
  /** Redis URL: share turns' events and barge-in between server instances (REDIS_URL). Without it, one instance. */
  redisUrl?: string;
  /** Redis key prefix (several deployments or test files on one Redis). */
  redisPrefix?: string;
  /** Rate and concurrency limits on turns per tenant and subject (turn-limits.ts); none when absent. */
  turnLimits?: TurnLimiter;
  /** Counts turn outcomes and stage durations (server/metrics.ts: the app's metrics.voice); none when absent. */
  metrics?: VoiceMetrics;
  /** Replace a provider (tests, or another vendor); defaults follow VOICE_PROVIDER. */
  stt?: SttProvider;
  tts?: TtsProvider;
  model?: BaseChatModel;
}

export type TurnStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'INTERRUPTED';

export interface StartTurnInput {
  sessionId?: string | null;
  text?: string | null;
  /** base64 */
  audio?: string | null;
  audioFormat?: AudioFormat | null;
  voice?: string | null;
}

export interface TurnRecord {
  id: string;
  sessionId: string;
  status: TurnStatus;
  inputKind: 'TEXT' | 'AUDIO';
  transcript: string | null;
  responseText: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  timings: TurnTimings | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface SessionRecord {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  turns: TurnRecord[];
}

/** Whose sessions: a session belongs to its tenant and subject, and only they can run, read or follow it. */
export interface SessionOwner {
  tenantId: string;
  subject: string;
}

export interface VoiceService {
  readonly provider: 'groq' | 'local';
  /** What this server can do offline/online, for clients and logs. */
  readonly capabilities: { speechToText: string | null; textToSpeech: string | null; model: string; maxChunkCharacters: number };
  startTurn(owner: SessionOwner, input: StartTurnInput): Promise<{ id: string; sessionId: string; status: TurnStatus; startedAt: Date }>;
  /** The event stream of a session, or of one of its turns from its first event. Throws UserInputError when unknown. */
  events(owner: SessionOwner, sessionId: string, turnId?: string | null): Promise<Subscription>;
  session(owner: SessionOwner, sessionId: string): Promise<SessionRecord | null>;
  /** Resolves when every running turn has settled (tests, shutdown). */
  idle(): Promise<void>;
  /**
   * Stops taking turns and lets the running ones finish, for at most `graceMs`; then close() interrupts what is left.
   * Followers keep receiving the running turns' events meanwhile.
   */
  drain(graceMs: number): Promise<void>;
  /** Interrupts running turns and ends every subscription (followers get `complete`). */
  close(): Promise<void>;
}

interface RunningTurn {
  turnId: string;
  controller: AbortController;
  settled: Promise<unknown>;
  interrupt(message: string): void;
}

export async function createVoiceService(options: VoiceServiceOptions): Promise<VoiceService> {
  const { database, connectors, config, log } = options;
  const { db } = database;
  const provider = config.VOICE_PROVIDER;
  if (provider === 'groq' && !config.GROQ_API_KEY && !(options.stt && options.tts && options.model)) {
    throw new Error('VOICE_PROVIDER=groq needs GROQ_API_KEY; set it, or set VOICE_PROVIDER=local for the offline providers');
  }

  // Vocabulary (metric names) of the tenant a turn runs for: the local recogniser and intent model need it.
  const metricNames = (tenantId: string | undefined) => (tenantId ? connectors.metrics.names(tenantId).catch(() => [] as string[]) : Promise.resolve([]));
  let stt: SttProvider;
  let tts: TtsProvider;
  let model: BaseChatModel;
  let sttInfo: string | null;
  let ttsInfo: string | null;
  if (provider === 'groq') {
    const groqOptions = {
      apiKey: config.GROQ_API_KEY ?? 'unused',
      baseURL: config.GROQ_BASE_URL,
      timeoutMs: config.GROQ_TIMEOUT_MS,
      maxRetries: config.GROQ_MAX_RETRIES,
    };
    const client = createGroqClient(groqOptions);
    stt = options.stt ?? createGroqStt(client, { model: config.GROQ_STT_MODEL });
    tts = options.tts ?? createGroqTts(client, { model: config.GROQ_TTS_MODEL, voice: config.GROQ_TTS_VOICE });
    model = options.model ?? createGroqChatModel({ ...groqOptions, model: config.GROQ_LLM_MODEL });
    sttInfo = `groq ${config.GROQ_STT_MODEL}`;
    ttsInfo = `groq ${config.GROQ_TTS_MODEL}`;
  } else {
    const localStt = createLocalStt({ grammar: async (known, tenantId) => domainGrammar(await metricNames(tenantId), known) });
    const localTts = createLocalTts();
    stt = options.stt ?? localStt;
    tts = options.tts ?? localTts;
    model = options.model ?? new LocalIntentModel({ metricNames });
    sttInfo = localStt.unavailableReason ? null : 'pocketsphinx (domain grammar)';
    ttsInfo = localTts.available ? 'espeak-ng' : null;
    if (localStt.unavailableReason) log.warn('voice: audio turns are unavailable', { reason: localStt.unavailableReason });
    if (!localTts.available) log.warn('voice: espeak-ng is not installed; answers come as text events without audio (apt-get install espeak-ng)');
  }

  const checkpointer = await createCheckpointer(database, {
    databaseUrl: options.databaseUrl,
    poolSize: options.memoryPoolSize,
    onConnectionError: (error) => log.warn('agent memory: a database connection died; the pool opens a new one', { error: error.message }),
  });
  const graph: AgentGraph = createAgentGraph({ model, tools: createAgentTools({ connectors }), checkpointer: checkpointer.saver });
  const retentionMs = options.eventRetentionMs ?? 10 * 60_000;
  const eventLog: EventLog = createEventLog({ retentionMs });
  const running = new Map<string, RunningTurn>();
  const starting = new Map<string, Promise<unknown>>();
  const all = new Set<Promise<unknown>>();
  let closed = false;
  // Draining (shutdown): no new turns; running ones go on until they finish or close() interrupts them.
  let draining = false;
  const key = (scope: string, sessionId: string) => `${scope}\u0000${sessionId}`;
  // The event log and Redis partition sessions by an opaque scope: the owner's tenant and subject together.
  const scopeOf = (owner: SessionOwner) => `${owner.tenantId}\u0001${owner.subject}`;
  const ownedBy = <T extends typeof voiceTurns | typeof voiceSessions>(table: T, owner: SessionOwner) =>
    and(eq(table.tenantId, owner.tenantId), eq(table.subject, owner.subject));
  let shared: SharedTurns | null = null;
  if (options.redisUrl) {
    try {
      shared = await createSharedTurns({
        url: options.redisUrl,
        prefix: options.redisPrefix,
        retentionMs,
        log,
        // Another instance started a turn on a session we are running: barge-in across instances.
        onAnnounce: (scope, sessionId, turnId) => running.get(key(scope, sessionId))?.interrupt(`interrupted by turn ${turnId} on the same session`),
      });
    } catch (error) {
      await checkpointer.close();
      eventLog.close();
      throw new Error(`voice: cannot connect to Redis at REDIS_URL: ${(error as Error).message}`);
    }
  }

  async function persistOutcome(tenantId: string, turnId: string, values: Partial<typeof voiceTurns.$inferInsert>) {
    try {
      await db
        .update(voiceTurns)
        .set({ ...values, finishedAt: new Date() })
        .where(and(eq(voiceTurns.tenantId, tenantId), eq(voiceTurns.turnId, turnId)));
    } catch (error) {
      log.error('voice: could not store a turn outcome', { turnId, error: (error as Error).message });
    }
  }

  const storedOutcome = (outcome: TurnOutcome) => ({
    status: outcome.status,
    transcript: outcome.transcript,
    responseText: outcome.responseText,
    errorCode: outcome.error?.code ?? null,
    errorMessage: outcome.error?.message ?? null,
    timings: outcome.timings as Record<string, number | null> | null,
  });

  /**
   * With Redis, the session's previous turn may be running on another instance (the announcement interrupts it there).
   * Resolves once no earlier turn of the session is RUNNING in the database, i.e. once that instance has written the
   * turn's memory and outcome, so this turn's agent reads the whole conversation. Polls for at most
   * OTHER_INSTANCE_WAIT_MS; a turn still RUNNING then (its instance stopped mid-turn) is marked INTERRUPTED, so the
   * session's later turns do not wait for it again.
   */
  async function otherInstanceSettled(owner: SessionOwner, sessionId: string, turnId: string, startedAt: Date, signal: AbortSignal) {
    const earlierRunning = and(
      ownedBy(voiceTurns, owner),
      eq(voiceTurns.sessionId, sessionId),
      eq(voiceTurns.status, 'RUNNING'),
      ne(voiceTurns.turnId, turnId),
      lte(voiceTurns.startedAt, startedAt),
    );
    const deadline = Date.now() + OTHER_INSTANCE_WAIT_MS;
    while (!signal.aborted) {
      const [row] = await db.select({ turnId: voiceTurns.turnId }).from(voiceTurns).where(earlierRunning).limit(1);
      if (!row) return;
      if (Date.now() >= deadline) {
        await db
          .update(voiceTurns)
          .set({ status: 'INTERRUPTED', errorCode: 'INTERRUPTED', errorMessage: `interrupted by turn ${turnId}; the instance running it did not end it`, finishedAt: new Date() })
          .where(earlierRunning);
        return;
      }
      await sleep(OTHER_INSTANCE_POLL_MS, undefined, { signal }).catch(() => {});
    }
  }

  async function start(owner: SessionOwner, input: StartTurnInput, release: () => Promise<void> = async () => {}) {
    try {
      return await run(owner, input, release);
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** Starts the turn; `release` frees its running-turn slot once it has settled. */
  async function run(owner: SessionOwner, input: StartTurnInput, release: () => Promise<void>) {
    if (closed || draining) throw new VoiceError('INTERNAL', 'the voice service is shutting down; send the turn again shortly', true);
    const { tenantId, subject } = owner;
    const scope = scopeOf(owner);
    const sessionId = input.sessionId ?? randomUUID();
    const turnId = randomUUID();
    const k = key(scope, sessionId);
    const startedAt = new Date();
    // Every line this turn logs, down through the pipeline, names it, its session and its tenant.
    const turnLog = log.child({ turnId, sessionId, tenant: tenantId });

    await db
      .insert(voiceSessions)
      .values({ tenantId, subject, sessionId, createdAt: startedAt, updatedAt: startedAt })
      .onConflictDoUpdate({ target: [voiceSessions.tenantId, voiceSessions.subject, voiceSessions.sessionId], set: { updatedAt: startedAt } });
    await db.insert(voiceTurns).values({
      tenantId,
      subject,
      turnId,
      sessionId,
      status: 'RUNNING',
      inputKind: input.text != null ? 'TEXT' : 'AUDIO',
      startedAt,
    });

    // Barge-in: the session's running turn ends now, before the new turn's first event.
    const previous = running.get(k);
    previous?.interrupt(`interrupted by turn ${turnId} on the same session`);

    const localWriter = eventLog.openTurn(scope, sessionId, turnId);
    const writer = shared ? shared.mirror(localWriter, scope, turnId) : localWriter;
    void shared?.announce(scope, sessionId, turnId).catch((error: unknown) => turnLog.warn('voice: could not announce a turn', { error: (error as Error).message }));
    const controller = new AbortController();
    // Once the pipeline is storing its outcome the turn is over: a barge-in then has nothing left to cancel.
    let finishing = false;
    const interrupt = (message: string) => {
      if (writer.ended || finishing) return;
      const error = new VoiceError('INTERRUPTED', message, true);
      writer.append({ type: 'TurnFailedEvent', code: error.code, message: error.message, retryable: error.retryable });
      controller.abort(error);
    };
    const audioBase64 = input.audio;
    const audioFormat = input.audioFormat ?? 'WAV';
    const settled = (async () => {
      const outcome = await runTurn(
        { stt, tts, graph, log: turnLog, providerLabel: provider === 'groq' ? 'Groq' : 'local' },
        {
          tenantId,
          subject,
          sessionId,
          turnId,
          text: input.text,
          audio: audioBase64 != null ? () => ({ bytes: decodeBase64Audio(audioBase64), format: audioFormat }) : null,
          voice: input.voice,
          signal: controller.signal,
          writer,
          after: previous?.settled ?? (shared && input.sessionId ? otherInstanceSettled(owner, sessionId, turnId, startedAt, controller.signal) : undefined),
          beforeEnd: (outcome) => {
            finishing = true;
            return persistOutcome(tenantId, turnId, storedOutcome(outcome));
          },
        },
      );
      options.metrics?.turnFinished(outcome);
      turnLog.info('voice: turn ended', { status: outcome.status, ...(outcome.error && { code: outcome.error.code }), ...(outcome.timings && { timings: outcome.timings }) });
      // An interrupted turn's log was ended by the barge-in itself; store how it ended.
      if (outcome.status === 'INTERRUPTED') await persistOutcome(tenantId, turnId, storedOutcome(outcome));
    })()
      .catch((error: unknown) => {
        options.metrics?.turnFinished({ status: 'FAILED', transcript: null, responseText: null, timings: null, error: new VoiceError('INTERNAL', 'the turn crashed', false) });
        turnLog.error('voice: turn crashed', { error: String((error as Error)?.stack ?? error) });
      })
      .finally(() => {
        if (running.get(k)?.turnId === turnId) running.delete(k);
        all.delete(settled);
        void release();
      });
    all.add(settled);
    running.set(k, { turnId, controller, settled, interrupt });
    return { id: turnId, sessionId, status: 'RUNNING' as const, startedAt };
  }

  return {
    provider,
    capabilities: {
      speechToText: sttInfo,
      textToSpeech: ttsInfo,
      model: provider === 'groq' ? `groq ${config.GROQ_LLM_MODEL}` : 'local intent model',
      maxChunkCharacters: tts.maxChars,
    },

    async startTurn(owner, input) {
      // Limits first: a refused turn leaves nothing behind (no session row, no barge-in of the running turn).
      const slot = await options.turnLimits?.acquire(owner.tenantId, owner.subject);
      if (slot && !slot.ok) throw new TurnLimitedError(slot.reason, slot.retryAfterMs);
      // Turns of one session start one at a time, so barge-in always sees the turn it replaces.
      const k = key(scopeOf(owner), input.sessionId ?? '');
      const before = input.sessionId ? starting.get(k) : undefined;
      const result = (before ?? Promise.resolve())
        .catch(() => {})
        .then(() => start(owner, input, slot?.release));
      if (input.sessionId) {
        starting.set(k, result);
        void result.finally(() => starting.get(k) === result && starting.delete(k)).catch(() => {});
      }
      return result;
    },

    async events(owner, sessionId, turnId) {
      const scope = scopeOf(owner);
      if (!turnId) return eventLog.subscribe(scope, sessionId);
      // Another owner's turn is simply not found, with the same words as one that never existed.
      const notFound = () => new UserInputError(`turnId: no turn ${turnId} in session ${sessionId}`, 'turnId');
      if (eventLog.hasTurn(scope, turnId)) {
        const [row] = await db
          .select({ sessionId: voiceTurns.sessionId })
          .from(voiceTurns)
          .where(and(ownedBy(voiceTurns, owner), eq(voiceTurns.turnId, turnId)));
        if (row && row.sessionId !== sessionId) throw notFound();
        return eventLog.subscribe(scope, sessionId, turnId);
      }
      const [row] = await db
        .select({ sessionId: voiceTurns.sessionId, status: voiceTurns.status })
        .from(voiceTurns)
        .where(and(ownedBy(voiceTurns, owner), eq(voiceTurns.turnId, turnId)));
      if (!row || row.sessionId !== sessionId) throw notFound();
      // Ran (or runs) on another instance: read it from its shared stream.
      if (shared && (await shared.hasTurn(scope, turnId))) return shared.subscribe(scope, turnId);
      throw new UserInputError(
        `turnId: the events of turn ${turnId} are no longer kept (they are kept ${Math.round(retentionMs / 60_000)} minutes after a turn ends); read its outcome with Query.voiceSession`,
        'turnId',
      );
    },

    async session(owner, sessionId) {
      const [s] = await db
        .select()
        .from(voiceSessions)
        .where(and(ownedBy(voiceSessions, owner), eq(voiceSessions.sessionId, sessionId)));
      if (!s) return null;
      const turns = await db
        .select()
        .from(voiceTurns)
        .where(and(ownedBy(voiceTurns, owner), eq(voiceTurns.sessionId, sessionId)))
        .orderBy(asc(voiceTurns.startedAt), asc(sql`${voiceTurns.turnId}`));
      return {
        id: s.sessionId,
        createdAt: s.createdAt,
        updatedAt: s.updatedAt,
        turns: turns.map((t) => ({
          id: t.turnId,
          sessionId: t.sessionId,
          status: t.status as TurnStatus,
          inputKind: t.inputKind as 'TEXT' | 'AUDIO',
          transcript: t.transcript,
          responseText: t.responseText,
          errorCode: t.errorCode,
          errorMessage: t.errorMessage,
          timings: (t.timings as TurnTimings | null) ?? null,
          startedAt: t.startedAt,
          finishedAt: t.finishedAt,
        })),
      };
    },

    async idle() {
      while (all.size) await Promise.allSettled([...all]);
      await shared?.flushed();
    },

    async drain(graceMs) {
      draining = true;
      let deadline: NodeJS.Timeout | undefined;
      const timeUp = new Promise<void>((resolve) => (deadline = setTimeout(resolve, graceMs)));
      const finished = (async () => {
        while (all.size) await Promise.allSettled([...all]);
      })();
      await Promise.race([finished, timeUp]);
      clearTimeout(deadline);
    },

    async close() {
      if (closed) return;
      closed = true;
      draining = true;
      for (const turn of running.values()) turn.interrupt('the server is shutting down; send the turn again');
      while (all.size) await Promise.allSettled([...all]);
      eventLog.close();
      await shared?.close();
      await checkpointer.close();
    },
  };
}

// The VoiceService the app holds, composed from its parts: the providers chosen in main.ts (providers/index.ts), the
// agent over the connectors with its memory in the database, the turn store (store.ts), the turn lifecycle
// (turns.ts), the in-process event log (events.ts) and, with Redis, the sharing of turns between instances
// (redis-events.ts). It serves a session's or a turn's events wherever the turns run.
import { UserInputError } from '../errors';
import { createCheckpointer } from '../agent/checkpointer';
import { type AgentGraph, createAgentGraph } from '../agent/graph';
import { createAgentTools } from '../agent/tools';
import type { Connectors } from '../connectors';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { type EventLog, type Subscription, createEventLog } from './events';
import type { VoiceProviders } from './providers';
import { type SharedTurns, createSharedTurns } from './redis-events';
import { type SessionOwner, type SessionRecord, createTurnStore } from './store';
import type { TurnLimiter } from './turn-limits';
import { type StartTurnInput, type StartedTurn, type TurnRunner, type VoiceMetrics, createTurnRunner } from './turns';

export type { VoiceConfig } from './providers';
export type { SessionOwner, SessionRecord, TurnRecord, TurnStatus } from './store';
export type { StartTurnInput, VoiceMetrics } from './turns';

export interface VoiceServiceOptions {
  database: Database;
  connectors: Connectors;
  /** Speech-to-text, text-to-speech and the chat model (createVoiceProviders, from configuration). */
  providers: VoiceProviders;
  log: Logger;
  /** postgres:// URL of the database, for the agent memory's pg pool (derived when absent). */
  databaseUrl?: string;
  /** Connections of the agent memory's pg pool on PostgreSQL (AGENT_MEMORY_POOL_SIZE; default 4). */
  memoryPoolSize?: number;
  /** How long a finished turn's events stay replayable (default 10 minutes). */
  eventRetentionMs?: number;
  /** Redis URL: share turns' events, barge-in and cancels between server instances (REDIS_URL). Without it, one instance. */
  redisUrl?: string;
  /** Redis key prefix (several deployments or test files on one Redis). */
  redisPrefix?: string;
  /** Rate and concurrency limits on turns per tenant and subject (turn-limits.ts); none when absent. */
  turnLimits?: TurnLimiter;
  /** Counts turn outcomes and stage durations (server/metrics.ts: the app's metrics.voice); none when absent. */
  metrics?: VoiceMetrics;
}

export interface VoiceService {
  readonly provider: 'groq' | 'local';
  /** What this server can do offline/online, for clients and logs. */
  readonly capabilities: VoiceProviders['capabilities'];
  startTurn(owner: SessionOwner, input: StartTurnInput): Promise<StartedTurn>;
  /** Ends a running turn (TurnFailedEvent CANCELLED), wherever it runs; false when it had already ended. */
  cancelTurn(owner: SessionOwner, sessionId: string, turnId: string): Promise<boolean>;
  /**
   * The event stream of a session (every turn, wherever it runs, from the turns still kept, then live), or of one of
   * its turns from its first event. Throws UserInputError when unknown.
   */
  events(owner: SessionOwner, sessionId: string, turnId?: string | null): Promise<Subscription>;
  session(owner: SessionOwner, sessionId: string): Promise<SessionRecord | null>;
  /** Resolves when every running turn has settled (tests, shutdown). */
  idle(): Promise<void>;
  /**
   * Rejects while a Redis connection that turns need is down (the shared turn stream's, the turn limits'); resolves at
   * once without Redis (/ready).
   */
  ping(): Promise<void>;
  /**
   * Stops taking turns and lets the running ones finish, for at most `graceMs`; then close() interrupts what is left.
   * Followers keep receiving the running turns' events meanwhile.
   */
  drain(graceMs: number): Promise<void>;
  /** Interrupts running turns and ends every subscription (followers get `complete`). */
  close(): Promise<void>;
}

export async function createVoiceService(options: VoiceServiceOptions): Promise<VoiceService> {
  const { database, connectors, providers, log } = options;
  const checkpointer = await createCheckpointer(database, {
    databaseUrl: options.databaseUrl,
    poolSize: options.memoryPoolSize,
    onConnectionError: (error) => log.warn('agent memory: a database connection died; the pool opens a new one', { error: error.message }),
  });
  const graph: AgentGraph = createAgentGraph({ model: providers.model, tools: createAgentTools({ connectors }), checkpointer: checkpointer.saver });
  const retentionMs = options.eventRetentionMs ?? 10 * 60_000;
  const eventLog: EventLog = createEventLog({ retentionMs });
  const store = createTurnStore(database);
  // The event log and Redis partition sessions by an opaque scope: the owner's tenant and subject together.
  const scopeOf = (owner: SessionOwner) => `${owner.tenantId}\u0001${owner.subject}`;
  const key = (scope: string, sessionId: string) => `${scope}\u0000${sessionId}`;
  /** Sessions with session-wide readers here, and how many: the turns other instances run on them are imported. */
  const watched = new Map<string, number>();
  /** Remote turns being copied into the event log (ended at close). */
  const importing = new Set<Subscription>();

  // Set just below; announcements can arrive while Redis is being set up, before there is anything to interrupt.
  let runner: TurnRunner | null = null;
  let closed = false;
  let shared: SharedTurns | null = null;
  if (options.redisUrl) {
    try {
      shared = await createSharedTurns({
        url: options.redisUrl,
        prefix: options.redisPrefix,
        retentionMs,
        log,
        onAnnounce: (scope, sessionId, turnId) => {
          // Another instance started a turn on a session: barge-in across instances, and session-wide readers here see it.
          runner?.interruptSession(scope, sessionId, turnId);
          if (watched.has(key(scope, sessionId))) importRemoteTurn(scope, sessionId, turnId);
        },
        onCancel: (scope, sessionId, turnId) => runner?.cancelHere(scope, sessionId, turnId),
      });
    } catch (error) {
      await checkpointer.close();
      eventLog.close();
      throw new Error(`voice: cannot connect to Redis at REDIS_URL: ${(error as Error).message}`);
    }
  }

  const turns = createTurnRunner({
    pipeline: { stt: providers.stt, tts: providers.tts, graph, log, providerLabel: providers.name === 'groq' ? 'Groq' : 'local' },
    store,
    eventLog,
    shared,
    log,
    turnLimits: options.turnLimits,
    metrics: options.metrics,
    scopeOf,
  });
  runner = turns;

  /** Copies a turn running (or run) on another instance into the event log, in start order, as its events arrive. */
  function importRemoteTurn(scope: string, sessionId: string, turnId: string, startedAt?: Date) {
    if (!shared || eventLog.hasTurn(scope, turnId)) return;
    const imported = eventLog.importTurn(scope, sessionId, turnId, startedAt?.getTime());
    const source = shared.subscribe(scope, turnId);
    importing.add(source);
    void (async () => {
      try {
        for await (const event of source) imported.push(event);
      } catch (error) {
        log.warn('voice: stopped following a turn of another instance for its session readers', { turnId, error: (error as Error).message });
      } finally {
        imported.abandon();
        importing.delete(source);
      }
    })();
  }

  /** A session-wide reader: with Redis, the session's kept turns from every instance first, then every new one. */
  async function sessionEvents(owner: SessionOwner, sessionId: string): Promise<Subscription> {
    const scope = scopeOf(owner);
    if (!shared) return eventLog.subscribe(scope, sessionId);
    const k = key(scope, sessionId);
    // Watch first, then look back: a turn that starts meanwhile is announced or found in the database (or both; once).
    watched.set(k, (watched.get(k) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (watched.get(k) ?? 1) - 1;
      if (n > 0) watched.set(k, n);
      else watched.delete(k);
    };
    try {
      const kept = await store.recentTurns(owner, sessionId, new Date(Date.now() - retentionMs));
      for (const turn of kept) {
        if (!eventLog.hasTurn(scope, turn.turnId) && (await shared.hasTurn(scope, turn.turnId))) importRemoteTurn(scope, sessionId, turn.turnId, turn.startedAt);
      }
    } catch (error) {
      release();
      throw error;
    }
    const inner = eventLog.subscribe(scope, sessionId);
    const reader: Subscription = {
      [Symbol.asyncIterator]() {
        return reader;
      },
      async next() {
        const result = await inner.next();
        if (result.done) release();
        return result;
      },
      async return() {
        release();
        return inner.return();
      },
      // The promise-free reading of the event log, passed through (a fan-out reads session-wide subscriptions too).
      tryNext() {
        const result = inner.tryNext!();
        if (result?.done) release();
        return result;
      },
      onReady: (callback) => inner.onReady!(callback),
    };
    return reader;
  }

  return {
    provider: providers.name,
    capabilities: providers.capabilities,

    startTurn: (owner, input) => turns.start(owner, input),
    cancelTurn: (owner, sessionId, turnId) => turns.cancel(owner, sessionId, turnId),

    async events(owner, sessionId, turnId) {
      if (!turnId) return sessionEvents(owner, sessionId);
      const scope = scopeOf(owner);
      // Another owner's turn is simply not found, with the same words as one that never existed.
      const notFound = () => new UserInputError(`turnId: no turn ${turnId} in session ${sessionId}`, 'turnId');
      if (eventLog.hasTurn(scope, turnId)) {
        const turn = await store.turnOf(owner, turnId);
        if (turn && turn.sessionId !== sessionId) throw notFound();
        return eventLog.subscribe(scope, sessionId, turnId);
      }
      const turn = await store.turnOf(owner, turnId);
      if (!turn || turn.sessionId !== sessionId) throw notFound();
      // Ran (or runs) on another instance: read it from its shared stream.
      if (shared && (await shared.hasTurn(scope, turnId))) return shared.subscribe(scope, turnId);
      throw new UserInputError(
        `turnId: the events of turn ${turnId} are no longer kept (they are kept ${Math.round(retentionMs / 60_000)} minutes after a turn ends); read its outcome with Query.voiceSession`,
        'turnId',
      );
    },

    session: (owner, sessionId) => store.session(owner, sessionId),
    idle: () => turns.idle(),
    // Every Redis connection a turn needs: the shared turn stream's and the turn limits' reconnect on their own.
    ping: async () => {
      await Promise.all([shared?.ping(), options.turnLimits?.ping()]);
    },
    drain: (graceMs) => turns.drain(graceMs),

    async close() {
      if (closed) return;
      closed = true;
      await turns.close();
      eventLog.close();
      for (const source of importing) void source.return();
      await shared?.close();
      await checkpointer.close();
    },
  };
}

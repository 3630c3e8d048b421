// The turn lifecycle: starts a turn in the background (after the limits, one at a time per session), interrupts the
// session's running turn when a new one starts (barge-in, here or on another instance), cancels a turn on request,
// stores how each turn ended, and drains or interrupts what runs at shutdown.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserInputError } from '../errors';
import type { Logger } from '../logger';
import { type AudioFormat, decodeBase64Audio } from './audio';
import { VoiceError, type VoiceErrorCode } from './errors';
import type { EventLog } from './events';
import { type PipelineDeps, type TurnOutcome, runTurn } from './pipeline';
import type { SharedTurns } from './redis-events';
import type { SessionOwner, TurnStatus, TurnStore } from './store';
import { type TurnLimiter, TurnLimitedError } from './turn-limits';

/** How long a new turn waits for the session's previous turn on another instance to write its memory, and how often it looks. */
const OTHER_INSTANCE_WAIT_MS = 4000;
const OTHER_INSTANCE_POLL_MS = 20;
/** How long a cancel of a turn running on another instance waits to see it end. */
const REMOTE_CANCEL_WAIT_MS = 3000;

/** Where turn outcomes are counted (the app's metrics.voice, server/metrics.ts; declared here: voice imports no server code). */
export interface VoiceMetrics {
  turnFinished(outcome: TurnOutcome): void;
}

export interface StartTurnInput {
  sessionId?: string | null;
  text?: string | null;
  /** base64 */
  audio?: string | null;
  audioFormat?: AudioFormat | null;
  voice?: string | null;
}

export interface StartedTurn {
  id: string;
  sessionId: string;
  status: TurnStatus;
  startedAt: Date;
}

export interface TurnRunner {
  start(owner: SessionOwner, input: StartTurnInput): Promise<StartedTurn>;
  /** Ends a running turn of the owner's (CANCELLED); false when it had already ended. Unknown turns are UserInputErrors. */
  cancel(owner: SessionOwner, sessionId: string, turnId: string): Promise<boolean>;
  /** Another instance started a turn on a session: the session's turn running here ends (barge-in across instances). */
  interruptSession(scope: string, sessionId: string, byTurnId: string): void;
  /** Another instance was asked to cancel a turn: ends it if it runs here. */
  cancelHere(scope: string, sessionId: string, turnId: string): void;
  idle(): Promise<void>;
  drain(graceMs: number): Promise<void>;
  /** Interrupts every running turn and waits for them to settle. */
  close(): Promise<void>;
}

export interface TurnRunnerOptions {
  pipeline: PipelineDeps;
  store: TurnStore;
  eventLog: EventLog;
  shared: SharedTurns | null;
  log: Logger;
  turnLimits?: TurnLimiter;
  metrics?: VoiceMetrics;
  /** The event log's and Redis's partition of a session: its owner (scopeOf). */
  scopeOf: (owner: SessionOwner) => string;
}

interface RunningTurn {
  turnId: string;
  settled: Promise<unknown>;
  /**
   * Ends the turn from outside (barge-in, cancel, shutdown): stops its work at once, stores it INTERRUPTED, then appends
   * its TurnFailedEvent. Resolves once the event is in the log; true when this call ended the turn, false when it had
   * already ended or was already storing how it finished.
   */
  end(code: VoiceErrorCode, message: string, retryable: boolean): Promise<boolean>;
}

export function createTurnRunner(options: TurnRunnerOptions): TurnRunner {
  const { store, eventLog, shared, log, scopeOf } = options;
  const running = new Map<string, RunningTurn>();
  const starting = new Map<string, Promise<unknown>>();
  const all = new Set<Promise<unknown>>();
  let closed = false;
  // Draining (shutdown): no new turns; running ones go on until they finish or close() interrupts them.
  let draining = false;
  const key = (scope: string, sessionId: string) => `${scope}\u0000${sessionId}`;
  const interrupted = (turnId: string) => `interrupted by turn ${turnId} on the same session`;
  const CANCELLED_MESSAGE = 'cancelled by the user (cancelVoiceTurn)';

  async function storeOutcome(tenantId: string, turnId: string, outcome: TurnOutcome, turnLog: Logger) {
    try {
      await store.finishTurn(tenantId, turnId, outcome);
    } catch (error) {
      turnLog.error('voice: could not store a turn outcome', { error: (error as Error).message });
    }
  }

  /**
   * With Redis, the session's previous turn may be running on another instance (the announcement interrupts it there).
   * Resolves once every earlier turn of the session has settled in the database (finishedAt set), i.e. once that
   * instance has written the turn's memory and outcome, so this turn's agent reads the whole conversation. Polls for
   * at most OTHER_INSTANCE_WAIT_MS; a turn still unsettled then (its instance stopped mid-turn) is marked INTERRUPTED
   * and settled, so the session's later turns do not wait for it again.
   */
  async function otherInstanceSettled(owner: SessionOwner, sessionId: string, turnId: string, startedAt: Date, signal: AbortSignal) {
    const deadline = Date.now() + OTHER_INSTANCE_WAIT_MS;
    while (!signal.aborted) {
      if (!(await store.earlierTurnUnsettled(owner, sessionId, turnId, startedAt))) return;
      if (Date.now() >= deadline) return store.interruptEarlierTurns(owner, sessionId, turnId, startedAt);
      await sleep(OTHER_INSTANCE_POLL_MS, undefined, { signal }).catch(() => {});
    }
  }

  /** Starts the turn; `release` frees its running-turn slot once it has settled. */
  async function run(owner: SessionOwner, input: StartTurnInput, release: () => Promise<void>): Promise<StartedTurn> {
    if (closed || draining) throw new VoiceError('INTERNAL', 'the voice service is shutting down; send the turn again shortly', true);
    const { tenantId, subject } = owner;
    const scope = scopeOf(owner);
    const sessionId = input.sessionId ?? randomUUID();
    const turnId = randomUUID();
    const k = key(scope, sessionId);
    const startedAt = new Date();
    // Every line this turn logs, down through the pipeline, names it, its session and its tenant.
    const turnLog = options.log.child({ turnId, sessionId, tenant: tenantId });

    await store.insertTurn(owner, { sessionId, turnId, inputKind: input.text != null ? 'TEXT' : 'AUDIO', startedAt });

    // Barge-in: the session's running turn ends now, its end in the log before the new turn's first event.
    const previous = running.get(k);
    await previous?.end('INTERRUPTED', interrupted(turnId), true);

    const localWriter = eventLog.openTurn(scope, sessionId, turnId);
    const writer = shared ? shared.mirror(localWriter, scope, turnId) : localWriter;
    void shared?.announce(scope, sessionId, turnId).catch((error: unknown) => turnLog.warn('voice: could not announce a turn', { error: (error as Error).message }));
    const controller = new AbortController();
    // Once the pipeline is storing its outcome the turn is over: a barge-in then has nothing left to cancel.
    let finishing = false;
    let ending: Promise<void> | null = null;
    const end = async (code: VoiceErrorCode, message: string, retryable: boolean): Promise<boolean> => {
      if (ending || writer.ended || finishing) return false;
      const error = new VoiceError(code, message, retryable);
      controller.abort(error); // nothing more of the turn reaches the log from here on (the pipeline checks the signal)
      // Stored before its TurnFailedEvent, as the pipeline's own endings are (beforeEnd): a client that sees the end
      // and reads the session finds the turn ended, however long the pipeline takes to stop. The pipeline's outcome
      // (with what was heard and said) is stored over it once it has stopped.
      ending = store
        .interruptTurn(tenantId, turnId, error)
        .catch((e: unknown) => turnLog.error('voice: could not store a turn as interrupted', { error: (e as Error).message }))
        .then(() => {
            writer.append({ type: 'TurnFailedEvent', code: error.code, message: error.message, retryable: error.retryable });
        });
      await ending;
      return true;
    };
    const audioBase64 = input.audio;
    const audioFormat = input.audioFormat ?? 'WAV';
    const settled = (async () => {
      const outcome = await runTurn({ ...options.pipeline, log: turnLog }, {
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
          return storeOutcome(tenantId, turnId, outcome, turnLog);
        },
      });
      options.metrics?.turnFinished(outcome);
      turnLog.info('voice: turn ended', { status: outcome.status, ...(outcome.error && { code: outcome.error.code }), ...(outcome.timings && { timings: outcome.timings }) });
      // An interrupted turn's log was ended by end() itself, which stored it first; store the whole outcome after that.
      if (outcome.status === 'INTERRUPTED') {
        await ending;
        await storeOutcome(tenantId, turnId, outcome, turnLog);
      }
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
    running.set(k, { turnId, settled, end });
    return { id: turnId, sessionId, status: 'RUNNING', startedAt };
  }

  async function waitForEnd(owner: SessionOwner, turnId: string): Promise<boolean> {
    const deadline = Date.now() + REMOTE_CANCEL_WAIT_MS;
    while (Date.now() < deadline) {
      const turn = await store.turnOf(owner, turnId);
      if (turn?.status !== 'RUNNING') return true;
      await sleep(OTHER_INSTANCE_POLL_MS);
    }
    return false;
  }

  return {
    async start(owner, input) {
      // Limits first: a refused turn leaves nothing behind (no session row, no barge-in of the running turn).
      const slot = await options.turnLimits?.acquire(owner.tenantId, owner.subject);
      if (slot && !slot.ok) throw new TurnLimitedError(slot.reason, slot.retryAfterMs);
      const release = slot?.release ?? (async () => {});
      // Turns of one session start one at a time, so barge-in always sees the turn it replaces.
      const k = key(scopeOf(owner), input.sessionId ?? '');
      const before = input.sessionId ? starting.get(k) : undefined;
      const result = (before ?? Promise.resolve())
        .catch(() => {})
        .then(() => run(owner, input, release))
        .catch(async (error: unknown) => {
          await release();
          throw error;
        });
      if (input.sessionId) {
        starting.set(k, result);
        void result.finally(() => starting.get(k) === result && starting.delete(k)).catch(() => {});
      }
      return result;
    },

    async cancel(owner, sessionId, turnId) {
      const turn = await store.turnOf(owner, turnId);
      // Another owner's turn is simply not found, with the same words as one that never existed.
      if (!turn || turn.sessionId !== sessionId) throw new UserInputError(`turnId: no turn ${turnId} in session ${sessionId}`, 'turnId');
      if (turn.status !== 'RUNNING') return false;
      const scope = scopeOf(owner);
      const here = running.get(key(scope, sessionId));
      // Answers once the turn is stored INTERRUPTED and its TurnFailedEvent is in the log.
      if (here?.turnId === turnId) return here.end('CANCELLED', CANCELLED_MESSAGE, false);
      if (!shared) return false;
      // It runs on another instance (or ended a moment ago): ask there, and say whether it ended.
      await shared.cancel(scope, sessionId, turnId);
      return waitForEnd(owner, turnId);
    },

    interruptSession(scope, sessionId, byTurnId) {
      void running.get(key(scope, sessionId))?.end('INTERRUPTED', interrupted(byTurnId), true);
    },

    cancelHere(scope, sessionId, turnId) {
      const here = running.get(key(scope, sessionId));
      if (here?.turnId === turnId) void here.end('CANCELLED', CANCELLED_MESSAGE, false);
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
      closed = true;
      draining = true;
      for (const turn of running.values()) void turn.end('INTERRUPTED', 'the server is shutting down; send the turn again', true);
      while (all.size) await Promise.allSettled([...all]);
    },
  };
}

// The voice event log: every turn's events in order (seq 1, 2, 3 …), replayed from the first to late subscribers, then
// followed live, kept for a retention window after the turn ends. Nothing is lost and nothing is delivered twice because
// a subscriber reads the log by position; it never depends on having been attached when an event was emitted.

export interface TurnTimings {
  sttMs: number | null;
  agentMs: number | null;
  firstAudioMs: number | null;
  totalMs: number;
}

interface EventBase {
  sessionId: string;
  turnId: string;
  seq: number;
  at: Date;
}

export type VoiceEventBody =
  | { type: 'TranscriptEvent'; text: string }
  | { type: 'ToolCallEvent'; tool: string; arguments: string }
  | { type: 'ToolResultEvent'; tool: string; summary: string }
  | { type: 'ResponseTextEvent'; text: string }
  | { type: 'AudioChunkEvent'; index: number; mimeType: string; sampleRate: number; data: string; text: string }
  | { type: 'TurnCompletedEvent'; responseText: string; timings: TurnTimings }
  | { type: 'TurnFailedEvent'; code: string; message: string; retryable: boolean };

export type VoiceEvent = EventBase & VoiceEventBody;

export const TERMINAL_EVENTS = new Set<VoiceEvent['type']>(['TurnCompletedEvent', 'TurnFailedEvent']);

interface TurnLog {
  /** When it started (ms): a session's turns are kept in this order, imported ones included. */
  startedAt: number;
  tenantId: string;
  sessionId: string;
  turnId: string;
  events: VoiceEvent[];
  ended: boolean;
  endedAt: number | null;
}

/** Something that waits for the log to grow. */
type Waker = () => void;

interface SessionLog {
  /** Turns in the order they started. */
  turns: TurnLog[];
  wakers: Set<Waker>;
}

export interface EventLogOptions {
  /** How long a finished turn's events stay replayable. */
  retentionMs?: number;
  /** At most this many finished turns are kept (oldest dropped first), bounding memory under load: audio is large. */
  maxFinishedTurns?: number;
  now?: () => number;
}

export interface Subscription extends AsyncIterableIterator<VoiceEvent> {
  return(): Promise<IteratorResult<VoiceEvent>>;
  /**
   * Reading without a promise per event, for a fan-out to thousands of readers (server/shared-subscriptions.ts):
   * the next step if there is one now, else null; then `onReady` calls back once when the log has grown or ended.
   * A reader uses either these or `next()`, not both at once.
   */
  tryNext?(): IteratorResult<VoiceEvent> | null;
  onReady?(callback: () => void): void;
}

export interface EventLog {
  /** Opens the log of a new turn; appending starts at seq 1. */
  openTurn(tenantId: string, sessionId: string, turnId: string): TurnWriter;
  /**
   * Opens the log of a turn that runs on another instance, filled with its events as they are (seq and time kept), so
   * that this instance's session-wide readers see it among the session's turns.
   */
  importTurn(tenantId: string, sessionId: string, turnId: string, startedAt?: number): ImportedTurn;
  /** Whether the turn's events are still held (running, or ended within the retention window). */
  hasTurn(tenantId: string, turnId: string): boolean;
  /** Events of one turn (from its first) then live until its terminal event; or of every turn of a session, live forever. */
  subscribe(tenantId: string, sessionId: string, turnId?: string | null): Subscription;
  /** Drops turns whose retention ran out; called on every append and by a timer. */
  prune(): void;
  close(): void;
}

export interface TurnWriter {
  /** Appends an event; ignored once the turn has ended (so nothing follows TurnCompleted/TurnFailed). Returns it or null. */
  append(body: VoiceEventBody): VoiceEvent | null;
  readonly ended: boolean;
}

export interface ImportedTurn {
  /** Adds an event read from the turn's instance; a terminal event ends the turn. */
  push(event: VoiceEvent): void;
  /** Ends the turn without a terminal event (its events can no longer be read), so readers go on to the next turn. */
  abandon(): void;
}

export function createEventLog(options: EventLogOptions = {}): EventLog {
  const retentionMs = options.retentionMs ?? 10 * 60_000;
  const maxFinishedTurns = options.maxFinishedTurns ?? 500;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, SessionLog>();
  const turns = new Map<string, TurnLog>();
  const key = (tenantId: string, id: string) => `${tenantId}\u0000${id}`;
  let closed = false;

  function session(tenantId: string, sessionId: string): SessionLog {
    const k = key(tenantId, sessionId);
    let s = sessions.get(k);
    if (!s) {
      s = { turns: [], wakers: new Set() };
      sessions.set(k, s);
    }
    return s;
  }

  function wake(s: SessionLog) {
    for (const w of [...s.wakers]) w();
  }

  function prune() {
    let cutoff = now() - retentionMs;
    const finished = [...turns.values()].filter((t) => t.ended).map((t) => t.endedAt ?? 0);
    if (finished.length > maxFinishedTurns) {
      finished.sort((a, b) => b - a);
      cutoff = Math.max(cutoff, finished[maxFinishedTurns]);
    }
    for (const [k, s] of sessions) {
      // Only whole turns from the front are dropped, so positions of later turns stay meaningful to readers.
      s.turns = s.turns.filter((t) => {
        const keep = !t.ended || (t.endedAt ?? 0) > cutoff;
        if (!keep) turns.delete(key(t.tenantId, t.turnId));
        return keep;
      });
      if (s.turns.length === 0 && s.wakers.size === 0) sessions.delete(k);
    }
  }
  const timer = setInterval(prune, Math.max(1000, Math.min(retentionMs, 60_000)));
  timer.unref();

  function openTurn(tenantId: string, sessionId: string, turnId: string): TurnWriter {
    prune();
    const s = session(tenantId, sessionId);
    const log: TurnLog = { startedAt: now(), tenantId, sessionId, turnId, events: [], ended: false, endedAt: null };
    s.turns.push(log);
    turns.set(key(tenantId, turnId), log);
    wake(s);
    return {
      get ended() {
        return log.ended;
      },
      append(body) {
        if (log.ended) return null;
        const event = { ...body, sessionId, turnId, seq: log.events.length + 1, at: new Date(now()) } as VoiceEvent;
        log.events.push(event);
        if (TERMINAL_EVENTS.has(event.type)) {
          log.ended = true;
          log.endedAt = now();
        }
        wake(s);
        return event;
      },
    };
  }

  function importTurn(tenantId: string, sessionId: string, turnId: string, startedAt = now()): ImportedTurn {
    prune();
    const s = session(tenantId, sessionId);
    const log: TurnLog = { startedAt, tenantId, sessionId, turnId, events: [], ended: false, endedAt: null };
    // In start order among the session's turns: readers take the first turn they have not read, wherever it is.
    const after = s.turns.findIndex((t) => t.startedAt > startedAt);
    if (after < 0) s.turns.push(log);
    else s.turns.splice(after, 0, log);
    turns.set(key(tenantId, turnId), log);
    const end = () => {
      log.ended = true;
      log.endedAt = now();
    };
    return {
      push(event) {
        if (log.ended) return;
        log.events.push(event);
        if (TERMINAL_EVENTS.has(event.type)) end();
        wake(s);
      },
      abandon() {
        if (log.ended) return;
        end();
        wake(s);
      },
    };
  }

  function subscribe(tenantId: string, sessionId: string, turnId?: string | null): Subscription {
    const s = session(tenantId, sessionId);
    // Cursor: the turn objects already fully read, and the position inside the current one. Turn objects, not indexes,
    // so pruning the front of the list never shifts what this reader has seen.
    const done = new Set<TurnLog>();
    let current: TurnLog | null = null;
    let position = 0;
    let finished = false;
    let pending: Waker | null = null;

    const single = turnId ? turns.get(key(tenantId, turnId)) ?? null : null;
    if (turnId && !single) throw new Error(`turn ${turnId} is not in the event log`);

    function nextEvent(): VoiceEvent | null | 'end' {
      if (single) {
        if (position < single.events.length) return single.events[position++];
        return single.ended ? 'end' : null;
      }
      for (;;) {
        if (!current) {
          current = s.turns.find((t) => !done.has(t)) ?? null;
          position = 0;
          if (!current) return null;
        }
        if (position < current.events.length) return current.events[position++];
        if (!current.ended) {
          // A newer turn may have started while this one still runs (barge-in ends the old one first, so this is brief).
          return null;
        }
        done.add(current);
        current = null;
      }
    }

    /** The next step if there is one now; null when the reader has to wait for the log to grow. */
    function step(): IteratorResult<VoiceEvent> | null {
      if (finished) return { done: true, value: undefined };
      const e = nextEvent();
      if (e === 'end') {
        finished = true;
        return { done: true, value: undefined };
      }
      if (e) return { done: false, value: e };
      // A closed log ends its readers once they have read what it holds (a shutdown never cuts a turn's last events).
      return closed ? { done: true, value: undefined } : null;
    }

    function stop() {
      finished = true;
      pending?.();
    }

    const iterator: Subscription = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      // One promise per event and no re-checking loop: with thousands of readers of one session, every append wakes
      // them all, so what a wake-up costs is paid once per subscriber per event.
      next(): Promise<IteratorResult<VoiceEvent>> {
        const now = step();
        if (now) return Promise.resolve(now);
        return new Promise((resolve) => {
          const waker: Waker = () => {
            const later = step();
            if (!later) return; // woken by a turn that has no event yet: keep waiting
            s.wakers.delete(waker);
            pending = null;
            resolve(later);
          };
          pending = waker;
          s.wakers.add(waker);
        });
      },
      async return() {
        stop();
        return { done: true, value: undefined };
      },
      tryNext: step,
      onReady(callback) {
        const waker: Waker = () => {
          s.wakers.delete(waker);
          pending = null;
          callback();
        };
        pending = waker;
        s.wakers.add(waker);
      },
    };
    return iterator;
  }

  return {
    openTurn,
    importTurn,
    hasTurn: (tenantId, turnId) => turns.has(key(tenantId, turnId)),
    subscribe,
    prune,
    close() {
      closed = true;
      clearInterval(timer);
      for (const s of sessions.values()) wake(s);
    },
  };
}

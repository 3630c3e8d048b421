// Where voice sessions and turns are stored: every SQL statement of the voice service, in one place. A session belongs
// to its tenant and subject (SessionOwner); every read and write is scoped by both.
import { and, asc, eq, gte, lte, ne, or, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { voiceSessions, voiceTurns } from '../db/schema';
import type { TurnTimings } from './events';
import type { TurnOutcome } from './pipeline';

export type TurnStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'INTERRUPTED';

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

export interface TurnStore {
  /** Creates the session if new (else touches it) and the turn, RUNNING. */
  insertTurn(owner: SessionOwner, turn: { sessionId: string; turnId: string; inputKind: 'TEXT' | 'AUDIO'; startedAt: Date }): Promise<void>;
  /** Stores how a turn ended, once it has settled (its memory written): sets finishedAt. */
  finishTurn(tenantId: string, turnId: string, outcome: TurnOutcome): Promise<void>;
  /**
   * Marks a RUNNING turn INTERRUPTED the moment it is ended from outside (barge-in, cancel, shutdown), before it has
   * stopped: finishedAt stays null until finishTurn stores its whole outcome.
   */
  interruptTurn(tenantId: string, turnId: string, error: { code: string; message: string }): Promise<void>;
  /** The session a turn of this owner belongs to, and its status; null when the owner has no such turn. */
  turnOf(owner: SessionOwner, turnId: string): Promise<{ sessionId: string; status: TurnStatus } | null>;
  /** The session's turns still running or ended since `since`, oldest first. */
  recentTurns(owner: SessionOwner, sessionId: string, since: Date): Promise<{ turnId: string; startedAt: Date }[]>;
  /**
   * Whether a turn of the session that started no later than `startedAt` (other than `turnId`) has not settled: it is
   * RUNNING, or interrupted and still stopping (no finishedAt yet).
   */
  earlierTurnUnsettled(owner: SessionOwner, sessionId: string, turnId: string, startedAt: Date): Promise<boolean>;
  /** Marks those earlier unsettled turns INTERRUPTED and settled (their instance stopped mid-turn). */
  interruptEarlierTurns(owner: SessionOwner, sessionId: string, turnId: string, startedAt: Date): Promise<void>;
  session(owner: SessionOwner, sessionId: string): Promise<SessionRecord | null>;
}

export function createTurnStore(database: Database): TurnStore {
  const { db } = database;
  const ownedBy = <T extends typeof voiceTurns | typeof voiceSessions>(table: T, owner: SessionOwner) =>
    and(eq(table.tenantId, owner.tenantId), eq(table.subject, owner.subject));
  const earlierUnsettled = (owner: SessionOwner, sessionId: string, turnId: string, startedAt: Date) =>
    and(
      ownedBy(voiceTurns, owner),
      eq(voiceTurns.sessionId, sessionId),
      isNull(voiceTurns.finishedAt),
      ne(voiceTurns.turnId, turnId),
      lte(voiceTurns.startedAt, startedAt),
    );

  return {
    async insertTurn(owner, { sessionId, turnId, inputKind, startedAt }) {
      const { tenantId, subject } = owner;
      await db
        .insert(voiceSessions)
        .values({ tenantId, subject, sessionId, createdAt: startedAt, updatedAt: startedAt })
        .onConflictDoUpdate({ target: [voiceSessions.tenantId, voiceSessions.subject, voiceSessions.sessionId], set: { updatedAt: startedAt } });
      await db.insert(voiceTurns).values({ tenantId, subject, turnId, sessionId, status: 'RUNNING', inputKind, startedAt });
    },

    async finishTurn(tenantId, turnId, outcome) {
      await db
        .update(voiceTurns)
        .set({
          status: outcome.status,
          transcript: outcome.transcript,
          responseText: outcome.responseText,
          errorCode: outcome.error?.code ?? null,
          errorMessage: outcome.error?.message ?? null,
          timings: outcome.timings as Record<string, number | null> | null,
          finishedAt: new Date(),
        })
        .where(and(eq(voiceTurns.tenantId, tenantId), eq(voiceTurns.turnId, turnId)));
    },

    async interruptTurn(tenantId, turnId, error) {
      await db
        .update(voiceTurns)
        .set({ status: 'INTERRUPTED', errorCode: error.code, errorMessage: error.message })
        .where(and(eq(voiceTurns.tenantId, tenantId), eq(voiceTurns.turnId, turnId), eq(voiceTurns.status, 'RUNNING')));
    },

    async turnOf(owner, turnId) {
      const [row] = await db
        .select({ sessionId: voiceTurns.sessionId, status: voiceTurns.status })
        .from(voiceTurns)
        .where(and(ownedBy(voiceTurns, owner), eq(voiceTurns.turnId, turnId)));
      return row ? { sessionId: row.sessionId, status: row.status as TurnStatus } : null;
    },

    async recentTurns(owner, sessionId, since) {
      const rows = await db
        .select({ turnId: voiceTurns.turnId, startedAt: voiceTurns.startedAt })
        .from(voiceTurns)
        .where(
          and(
            ownedBy(voiceTurns, owner),
            eq(voiceTurns.sessionId, sessionId),
            or(eq(voiceTurns.status, 'RUNNING'), isNull(voiceTurns.finishedAt), gte(voiceTurns.finishedAt, since)),
          ),
        )
        .orderBy(asc(voiceTurns.startedAt), asc(sql`${voiceTurns.turnId}`));
      return rows;
    },

    async earlierTurnUnsettled(owner, sessionId, turnId, startedAt) {
      const [row] = await db.select({ turnId: voiceTurns.turnId }).from(voiceTurns).where(earlierUnsettled(owner, sessionId, turnId, startedAt)).limit(1);
      return Boolean(row);
    },

    async interruptEarlierTurns(owner, sessionId, turnId, startedAt) {
      await db
        .update(voiceTurns)
        .set({
          status: 'INTERRUPTED',
          // A turn already ended from outside (cancelled, say) keeps the reason it was given.
          errorCode: sql`coalesce(${voiceTurns.errorCode}, 'INTERRUPTED')`,
          errorMessage: sql`coalesce(${voiceTurns.errorMessage}, ${`interrupted by turn ${turnId}; the instance running it did not end it`})`,
          finishedAt: new Date(),
        })
        .where(earlierUnsettled(owner, sessionId, turnId, startedAt));
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
  };
}

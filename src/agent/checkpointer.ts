// Where the agent's conversation memory lives: LangGraph checkpoints in our database, through PostgresSaver.
// On PostgreSQL it gets its own small pg Pool; on PGlite a pool-shaped wrapper runs its statements on the embedded
// instance, mapping BEGIN … COMMIT onto PGlite's exclusive transactions so they never interleave with other queries.
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import type { Database } from '../db/client';
import { withSchemaLock } from '../db/migrate';

export interface Checkpointer {
  saver: PostgresSaver;
  close(): Promise<void>;
}

interface QueryResultLike {
  rows: Record<string, unknown>[];
}

class PgliteClient {
  private tx: Transaction | null = null;
  private finish: (() => void) | null = null;
  private done: Promise<unknown> | null = null;

  constructor(private readonly pglite: PGlite) {}

  async query(text: string, params?: unknown[]): Promise<QueryResultLike> {
    const statement = text.trim().toUpperCase();
    if (statement === 'BEGIN') {
      let started!: () => void;
      const ready = new Promise<void>((resolve) => (started = resolve));
      this.done = this.pglite.transaction(async (tx) => {
        this.tx = tx;
        started();
        await new Promise<void>((resolve) => (this.finish = resolve));
      });
      // A failed BEGIN rejects `done` before `ready` resolves.
      await Promise.race([ready, this.done]);
      return { rows: [] };
    }
    if (statement === 'COMMIT' || statement === 'ROLLBACK') {
      if (this.tx && statement === 'ROLLBACK') await this.tx.rollback().catch(() => {});
      this.finish?.();
      const done = this.done;
      this.tx = null;
      this.finish = null;
      this.done = null;
      await done?.catch((e: unknown) => {
        if (statement === 'COMMIT') throw e;
      });
      return { rows: [] };
    }
    const runner = this.tx ?? this.pglite;
    const result = await runner.query<Record<string, unknown>>(text, params as unknown[]);
    return { rows: result.rows.map(toPgRow) };
  }

  release(): void {
    // Never leave a transaction (and PGlite's lock) open behind a released client.
    if (this.finish) {
      void this.tx?.rollback().catch(() => {});
      this.finish();
    }
  }
}

/** pg returns bytea as Buffer; PGlite as Uint8Array. The saver's serde handles both, but keep the shapes the same. */
function toPgRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}

class PglitePool {
  constructor(private readonly pglite: PGlite) {}
  async connect(): Promise<PgliteClient> {
    return new PgliteClient(this.pglite);
  }
  async query(text: string, params?: unknown[]): Promise<QueryResultLike> {
    const result = await this.pglite.query<Record<string, unknown>>(text, params as unknown[]);
    return { rows: result.rows.map(toPgRow) };
  }
  async end(): Promise<void> {
    // The instance belongs to the app's Database, which closes it.
  }
}

export interface CheckpointerOptions {
  /** postgres:// URL of the same database, for the pg Pool; derived from the postgres.js client's options when absent. */
  databaseUrl?: string;
  /** Connections of its pg Pool on PostgreSQL (default 4): its share of max_connections beside the app's pool. */
  poolSize?: number;
  /**
   * Told when a pooled connection dies (server restart, network cut). pg's Pool emits 'error' for an idle client whose
   * socket closes, and an 'error' event without a listener ends the process; the pool itself replaces the client.
   */
  onConnectionError?: (error: Error) => void;
}

function urlFromPostgresJs(database: Database): string {
  const o = (database.sql as unknown as { options: { host: string[]; port: number[]; database: string; user: string; pass?: string | null } }).options;
  const auth = `${encodeURIComponent(o.user)}${o.pass ? `:${encodeURIComponent(o.pass)}` : ''}`;
  return `postgres://${auth}@${o.host[0]}:${o.port[0]}/${encodeURIComponent(o.database)}`;
}

/**
 * saver.setup() under the schema lock (db/migrate.ts), held on one of the app's connections: the saver creates its
 * schema and tables with IF NOT EXISTS and records each step in a keyed table, so replicas starting at once would fail
 * on each other's rows.
 */
async function setupLocked(database: Database, saver: PostgresSaver): Promise<void> {
  if (!database.sql) throw new Error('internal: a postgres Database without its client');
  await withSchemaLock(database.sql, () => saver.setup());
}

/** Builds the saver and creates its tables (idempotent: PostgresSaver tracks its own migrations). */
export async function createCheckpointer(database: Database, options: CheckpointerOptions = {}): Promise<Checkpointer> {
  if (database.kind === 'pglite') {
    if (!database.pglite) throw new Error('internal: a pglite Database without its instance');
    const saver = new PostgresSaver(new PglitePool(database.pglite) as unknown as pg.Pool);
    await saver.setup();
    return { saver, close: async () => {} };
  }
  const pool = new pg.Pool({
    connectionString: options.databaseUrl ?? urlFromPostgresJs(database),
    max: options.poolSize ?? 4,
    application_name: 'udc-agent-memory',
    // During an outage a memory read or write fails after this (the turn fails, retryable) instead of waiting for ever;
    // pg applies it also to waiting for a free pooled connection, and 10 s is far above a turn's normal wait.
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', (error) => options.onConnectionError?.(error));
  const saver = new PostgresSaver(pool);
  try {
    await setupLocked(database, saver);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return { saver, close: () => pool.end() };
}

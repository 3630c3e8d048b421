// Importer for the seed format: streams each file, validates every record, upserts in batches, all in one
// transaction (a bad record anywhere leaves the database as it was). Idempotent: unchanged rows are not rewritten.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type SQL, and, eq, inArray, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Database, Db } from './client';
import type { DateShift } from './demo';
import { readJsonArray, JsonStreamError } from './json-array-stream';
import { SEED_FILES, customerRecord, metricRecord, ticketRecord } from './records';
import { customers, metricPoints, tickets } from './schema';

export interface ImportOptions {
  tenantId?: string;
  /** Delete the tenant's existing rows of the sources present before importing. */
  replace?: boolean;
  /** Move every timestamp and date (keeps demo data recent; see shiftToNow). */
  shift?: DateShift;
  batchSize?: number;
  onProgress?: (file: string, records: number) => void;
  /** How many bad records to list before giving up (default 20). */
  maxErrors?: number;
  /** Run ANALYZE on the tables the import wrote, once it committed (default true). */
  analyze?: boolean;
  /** Called after that ANALYZE with the tables and the milliseconds it took. */
  onAnalyzed?: (tables: string[], ms: number) => void;
}

export interface FileReport {
  file: string;
  records: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

export class ImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`Import failed; nothing was written:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ImportError';
  }
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const DAY_MS = 86_400_000;
const shiftDate = (d: Date, ms: number) => (ms ? new Date(d.getTime() + ms) : d);
const shiftDay = (day: string, days: number) => (days ? new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10) : day);

function describeIssue(file: string, index: number, issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.join('.') : '(record)';
  return `${file}[${index}].${field}: ${issue.message}`;
}

/** Imports whichever of customers.json, support_tickets.json and analytics.json the directory holds. */
export async function importDirectory(database: Database, dir: string, options: ImportOptions = {}): Promise<FileReport[]> {
  const tenantId = options.tenantId ?? 'default';
  const present = {
    customers: existsSync(join(dir, SEED_FILES.customers)),
    tickets: existsSync(join(dir, SEED_FILES.tickets)),
    metrics: existsSync(join(dir, SEED_FILES.metrics)),
  };
  if (!present.customers && !present.tickets && !present.metrics) {
    throw new ImportError([`${dir}: none of ${Object.values(SEED_FILES).join(', ')} found`]);
  }
  const batchSize = options.batchSize ?? 1000;
  const maxErrors = options.maxErrors ?? 20;
  const shift = options.shift ?? { ms: 0, days: 0 };
  const problems: string[] = [];
  const reports: FileReport[] = [];

  /** Reads, validates and writes one file in batches; validation goes on after a problem to report more. */
  async function importFile<T, Row>(
    tx: Tx,
    file: string,
    schema: z.ZodType<T>,
    toRow: (record: T) => Row,
    keyOf: (row: Row) => string,
    write: (tx: Tx, rows: Row[]) => Promise<{ inserted: number; updated: number }>,
    check?: (tx: Tx, rows: { index: number; row: Row }[]) => Promise<string[]>,
  ): Promise<void> {
    const report: FileReport = { file, records: 0, inserted: 0, updated: 0, unchanged: 0 };
    let batch = new Map<string, { index: number; row: Row }>();
    const flush = async () => {
      if (batch.size === 0) return;
      const entries = [...batch.values()];
      batch = new Map();
      if (check) problems.push(...(await check(tx, entries)));
      if (problems.length) return;
      const { inserted, updated } = await write(tx, entries.map((e) => e.row));
      report.inserted += inserted;
      report.updated += updated;
    };
    try {
      for await (const { index, value } of readJsonArray(join(dir, file))) {
        report.records++;
        const parsed = schema.safeParse(value);
        if (!parsed.success) {
          problems.push(...parsed.error.issues.slice(0, 3).map((issue) => describeIssue(file, index, issue)));
        } else {
          const row = toRow(parsed.data);
          batch.set(keyOf(row), { index, row }); // the same key twice in a file: the later record wins
        }
        if (problems.length >= maxErrors) break;
        if (batch.size >= batchSize) await flush();
        if (report.records % 100_000 === 0) options.onProgress?.(file, report.records);
      }
      await flush();
    } catch (error) {
      if (error instanceof JsonStreamError) problems.push(`${file}${error.message.startsWith('[') ? '' : ': '}${error.message}`);
      else throw error;
    }
    report.unchanged = report.records - report.inserted - report.updated;
    options.onProgress?.(file, report.records);
    reports.push(report);
  }

  const counted = async (query: Promise<{ inserted: boolean }[]>) => {
    const rows = await query;
    const inserted = rows.filter((r) => r.inserted).length;
    return { inserted, updated: rows.length - inserted };
  };
  // xmax = 0 on a row returned by an upsert means it was inserted, not updated.
  const insertedFlag = { inserted: sql<boolean>`(xmax = 0)` };
  const changed = (columns: string[], table: string): SQL =>
    sql.raw(columns.map((c) => `${table}.${c} IS DISTINCT FROM excluded.${c}`).join(' OR '));

  await database.db.transaction(async (tx) => {
      if (options.replace) {
        if (present.customers || present.tickets) await tx.delete(tickets).where(eq(tickets.tenantId, tenantId));
        if (present.customers) await tx.delete(customers).where(eq(customers.tenantId, tenantId));
        if (present.metrics) await tx.delete(metricPoints).where(eq(metricPoints.tenantId, tenantId));
      }
      if (present.customers) {
        await importFile(
          tx,
          SEED_FILES.customers,
          customerRecord,
          (r) => ({ tenantId, customerId: r.customer_id, name: r.name, email: r.email, status: r.status, createdAt: shiftDate(r.created_at, shift.ms) }),
          (row) => String(row.customerId),
          (t, rows) =>
            counted(
              t
                .insert(customers)
                .values(rows)
                .onConflictDoUpdate({
                  target: [customers.tenantId, customers.customerId],
                  set: { name: sql`excluded.name`, email: sql`excluded.email`, status: sql`excluded.status`, createdAt: sql`excluded.created_at`, updatedAt: sql`now()` },
                  setWhere: changed(['name', 'email', 'status', 'created_at'], 'customers'),
                })
                .returning(insertedFlag),
            ),
        );
      }
      if (present.tickets && !problems.length) {
        await importFile(
          tx,
          SEED_FILES.tickets,
          ticketRecord,
          (r) => ({
            tenantId,
            ticketId: r.ticket_id,
            customerId: r.customer_id,
            subject: r.subject,
            priority: r.priority,
            status: r.status,
            createdAt: shiftDate(r.created_at, shift.ms),
          }),
          (row) => String(row.ticketId),
          (t, rows) =>
            counted(
              t
                .insert(tickets)
                .values(rows)
                .onConflictDoUpdate({
                  target: [tickets.tenantId, tickets.ticketId],
                  set: {
                    customerId: sql`excluded.customer_id`,
                    subject: sql`excluded.subject`,
                    priority: sql`excluded.priority`,
                    status: sql`excluded.status`,
                    createdAt: sql`excluded.created_at`,
                    updatedAt: sql`now()`,
                  },
                  setWhere: changed(['customer_id', 'subject', 'priority', 'status', 'created_at'], 'tickets'),
                })
                .returning(insertedFlag),
            ),
          // Name the record whose customer does not exist, rather than failing the batch on the foreign key.
          async (t, entries) => {
            const wanted = [...new Set(entries.map((e) => e.row.customerId))];
            const found = await t
              .select({ id: customers.customerId })
              .from(customers)
              .where(and(eq(customers.tenantId, tenantId), inArray(customers.customerId, wanted)));
            const known = new Set(found.map((f) => f.id));
            return entries
              .filter((e) => !known.has(e.row.customerId))
              .slice(0, maxErrors)
              .map((e) => `${SEED_FILES.tickets}[${e.index}].customer_id: customer ${e.row.customerId} does not exist (import it in customers.json)`);
          },
        );
      }
      if (present.metrics && !problems.length) {
        await importFile(
          tx,
          SEED_FILES.metrics,
          metricRecord,
          (r) => ({ tenantId, metric: r.metric, date: shiftDay(r.date, shift.days), value: r.value }),
          (row) => `${row.metric}|${row.date}`,
          (t, rows) =>
            counted(
              t
                .insert(metricPoints)
                .values(rows)
                .onConflictDoUpdate({
                  target: [metricPoints.tenantId, metricPoints.metric, metricPoints.date],
                  set: { value: sql`excluded.value`, updatedAt: sql`now()` },
                  setWhere: changed(['value'], 'metric_points'),
                })
                .returning(insertedFlag),
            ),
        );
      }
      if (problems.length) throw new ImportError(problems.slice(0, maxErrors));
  });
  if (options.analyze !== false) {
    const started = performance.now();
    // --replace with customers.json also deletes the tenant's tickets.
    const tables = await analyzeWritten(database, { ...present, tickets: present.tickets || (!!options.replace && present.customers) });
    options.onAnalyzed?.(tables, performance.now() - started);
  }
  return reports;
}

/**
 * Fresh planner statistics for the tables an import wrote (its sources, the rollups their triggers keep, data_changes).
 * Without them a bulk-loaded table is planned as if empty until autovacuum gets to it, which may be never (it is off
 * on some servers) or minutes later: at 1,000,000 tickets, active customers ran at p50 458 ms before and 55 ms after.
 * The trigger-kept tables are also vacuumed: every batch of the import rewrites their rows, so a million tickets leave
 * ticket_counts with 4,308 live rows among 722,040 dead ones (102 MB), and until a VACUUM its sums read them all
 * (26 ms instead of 1.3 ms per count: the index-only scan needs the visibility map). Sources are insert-mostly and
 * large: ANALYZE (a sample of 30,000 rows each) is enough. About 2 s in all at that size, a fraction of a second for
 * the demo data.
 */
export async function analyzeWritten(database: Database, written: { customers: boolean; tickets: boolean; metrics: boolean }): Promise<string[]> {
  const sources = [...(written.customers ? ['customers'] : []), ...(written.tickets ? ['tickets'] : []), ...(written.metrics ? ['metric_points'] : [])];
  const rollups = [...(written.customers ? ['customer_counts'] : []), ...(written.tickets ? ['ticket_counts'] : []), 'data_changes'];
  // VACUUM runs outside a transaction: this is after the import's has committed.
  await database.rows(sql.raw(`VACUUM (ANALYZE) ${rollups.join(', ')}`));
  if (sources.length) await database.rows(sql.raw(`ANALYZE ${sources.join(', ')}`));
  return [...sources, ...rollups];
}

// Tables, enums and indexes of the product's PostgreSQL database (drizzle-orm). Migrations are generated from this file.
// Rollup tables (ticket_counts, customer_counts) and data_changes are maintained by statement-level triggers
// written in migrations/ (custom SQL), so exact counts and freshness stay correct whoever writes the data.
import { sql } from 'drizzle-orm';
import {
  bigint,
  date,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

export const customerStatus = pgEnum('customer_status', ['active', 'inactive']);
export const ticketStatus = pgEnum('ticket_status', ['open', 'closed']);
export const ticketPriority = pgEnum('ticket_priority', ['high', 'medium', 'low']);

const tenantId = () => text('tenant_id').notNull();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

export const customers = pgTable(
  'customers',
  {
    tenantId: tenantId(),
    customerId: integer('customer_id').notNull(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    status: customerStatus('status').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.customerId] }),
    index('customers_status_idx').on(t.tenantId, t.status, t.customerId),
    index('customers_created_idx').on(t.tenantId, t.createdAt, t.customerId),
    index('customers_status_created_idx').on(t.tenantId, t.status, t.createdAt, t.customerId),
    index('customers_name_idx').on(t.tenantId, t.name, t.customerId),
    index('customers_name_trgm_idx').using('gin', t.name.op('gin_trgm_ops')),
    index('customers_email_trgm_idx').using('gin', t.email.op('gin_trgm_ops')),
  ],
);

export const tickets = pgTable(
  'tickets',
  {
    tenantId: tenantId(),
    ticketId: integer('ticket_id').notNull(),
    customerId: integer('customer_id').notNull(),
    subject: text('subject').notNull(),
    priority: ticketPriority('priority').notNull(),
    // 1 = high, 2 = medium, 3 = low: lets the default order (priority, then newest) run from an index.
    priorityRank: smallint('priority_rank')
      .notNull()
      .generatedAlwaysAs(sql`CASE priority WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END`),
    status: ticketStatus('status').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    updatedAt: updatedAt(),
  },
  // DESC columns are NULLS FIRST, PostgreSQL's default for DESC, so the connectors' plain `ORDER BY … DESC` matches
  // the index and pages come straight from it (with drizzle's default NULLS LAST the planner sorted every match).
  (t) => [
    primaryKey({ columns: [t.tenantId, t.ticketId] }),
    foreignKey({ columns: [t.tenantId, t.customerId], foreignColumns: [customers.tenantId, customers.customerId] }),
    index('tickets_priority_order_idx').on(t.tenantId, t.priorityRank, t.createdAt.desc().nullsFirst(), t.ticketId.desc().nullsFirst()),
    index('tickets_status_priority_order_idx').on(
      t.tenantId,
      t.status,
      t.priorityRank,
      t.createdAt.desc().nullsFirst(),
      t.ticketId.desc().nullsFirst(),
    ),
    // status last (after the unique ticket_id, so the order is unchanged): a customer's counts by status and priority
    // come from this index alone (an index-only scan), not from a heap fetch per ticket.
    index('tickets_customer_priority_order_idx').on(
      t.tenantId,
      t.customerId,
      t.priorityRank,
      t.createdAt.desc().nullsFirst(),
      t.ticketId.desc().nullsFirst(),
      t.status,
    ),
    index('tickets_created_idx').on(t.tenantId, t.createdAt.desc().nullsFirst(), t.ticketId.desc().nullsFirst()),
    index('tickets_status_created_idx').on(t.tenantId, t.status, t.createdAt.desc().nullsFirst(), t.ticketId.desc().nullsFirst()),
    index('tickets_subject_trgm_idx').using('gin', t.subject.op('gin_trgm_ops')),
  ],
);

export const metricPoints = pgTable(
  'metric_points',
  {
    tenantId: tenantId(),
    metric: text('metric').notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    value: doublePrecision('value').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.metric, t.date] }),
    index('metric_points_date_idx').on(t.tenantId, t.date.desc().nullsFirst(), t.metric),
  ],
);

/** Exact ticket counts per tenant, UTC day of creation, status and priority (kept by triggers). */
export const ticketCounts = pgTable(
  'ticket_counts',
  {
    tenantId: tenantId(),
    day: date('day', { mode: 'string' }).notNull(),
    status: ticketStatus('status').notNull(),
    priority: ticketPriority('priority').notNull(),
    n: bigint('n', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.day, t.status, t.priority] }),
    // Status/priority-filtered sums read one index range (days in order, n included) instead of the whole table.
    index('ticket_counts_filter_idx').on(t.tenantId, t.status, t.priority, t.day, t.n),
  ],
);

/** Exact customer counts per tenant, UTC day of creation and status (kept by triggers). */
export const customerCounts = pgTable(
  'customer_counts',
  {
    tenantId: tenantId(),
    day: date('day', { mode: 'string' }).notNull(),
    status: customerStatus('status').notNull(),
    n: bigint('n', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.day, t.status] }),
    index('customer_counts_filter_idx').on(t.tenantId, t.status, t.day, t.n),
  ],
);

/** When each source of a tenant last changed (kept by triggers): the age of the data, for freshness and caches. */
export const dataChanges = pgTable(
  'data_changes',
  {
    tenantId: tenantId(),
    source: text('source').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true, mode: 'date' }).notNull(),
    version: bigint('version', { mode: 'number' }).notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.source] })],
);

// ---- Voice (owned by src/voice): sessions and their turns, so Query.voiceSession survives restarts. ----
// The agent's conversation memory lives beside them in LangGraph's checkpoint tables (created by PostgresSaver.setup()).
// A session belongs to its tenant and subject (the token's `sub`): session ids are chosen by clients, so they are
// keyed per subject, and two subjects' "support-call" are two sessions that never see each other.

/** The subject of every request when auth is off. */
export const ANONYMOUS_SUBJECT = 'anonymous';
const subject = () => text('subject').notNull().default(ANONYMOUS_SUBJECT);

export const voiceSessions = pgTable(
  'voice_sessions',
  {
    tenantId: tenantId(),
    subject: subject(),
    sessionId: text('session_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.subject, t.sessionId] })],
);

export const voiceTurns = pgTable(
  'voice_turns',
  {
    tenantId: tenantId(),
    turnId: text('turn_id').notNull(),
    subject: subject(),
    sessionId: text('session_id').notNull(),
    /** RUNNING, COMPLETED, FAILED or INTERRUPTED. */
    status: text('status').notNull(),
    inputKind: text('input_kind').notNull(),
    transcript: text('transcript'),
    responseText: text('response_text'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** sttMs, agentMs, firstAudioMs, totalMs once the turn completed. */
    timings: jsonb('timings').$type<Record<string, number | null>>(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date', precision: 3 }),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.turnId] }),
    foreignKey({ columns: [t.tenantId, t.subject, t.sessionId], foreignColumns: [voiceSessions.tenantId, voiceSessions.subject, voiceSessions.sessionId] }),
    index('voice_turns_session_idx').on(t.tenantId, t.subject, t.sessionId, t.startedAt),
  ],
);

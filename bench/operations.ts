// The four GraphQL operations every benchmark runs, and the direct SQL truth their totalCount must equal.
import { sql, type SQL } from 'drizzle-orm';

export interface Operation {
  id: 'open-high-tickets' | 'active-customers' | 'customer-tickets' | 'dau-30-days';
  label: string;
  query: string;
  variables: Record<string, unknown>;
  /** A filtered connection whose cost at 1M tickets must stay within 2x of 50 tickets (the size target). */
  filteredConnection: boolean;
  /** Where its totalCount sits in the response, and the SQL that counts the same set independently. */
  total?: { path: string[]; truth: SQL };
  /**
   * The same question asked of PostGraphile v4 with postgraphile-plugin-connection-filter (the anchor): the same rows,
   * order, page size and totalCount, without our voice fields (voiceSummary, the metric summary). The tenant is a
   * `condition` argument, the user's filter a connection-filter `filter`.
   */
  postgraphile: { query: string; variables: Record<string, unknown>; totalPath: string[] };
  /**
   * The same question for PostGraphile v5 where it differs from v4's: v5's amber preset names enum values as the
   * database spells them (`open`, not `OPEN`). Otherwise v4's query, variables and totalPath serve both.
   */
  postgraphile5Query?: string;
  /**
   * The simplest SQL answering the question, as a developer would write it by hand: one count and one page select
   * (and the customer's row for the nested question), run concurrently by the simplest-SQL floor.
   */
  simplest: { query: string; params: unknown[] }[];
}

const DAY_MS = 86_400_000;
/** Every benchmark dataset is imported for this tenant (the server's default). */
const TENANT = 'default';

/** `anchor` is the dataset's last day (YYYY-MM-DD): the metric window is its last 30 days. */
export function operations(anchor: string): Operation[] {
  const to = anchor;
  const from = new Date(Date.parse(`${anchor}T00:00:00Z`) - 29 * DAY_MS).toISOString().slice(0, 10);
  return [
    {
      id: 'open-high-tickets',
      label: 'open high-priority tickets (first 10 + totalCount + voiceSummary)',
      query: `query OpenHigh { tickets(filter: {status: OPEN, priority: HIGH}, first: 10) {
        totalCount voiceSummary nodes { ticketId subject priority status createdAt customerId } } }`,
      variables: {},
      filteredConnection: true,
      total: {
        path: ['tickets', 'totalCount'],
        truth: sql`SELECT count(*)::int AS n FROM tickets WHERE status = 'open' AND priority = 'high'`,
      },
      postgraphile: {
        query: `query OpenHigh { allTickets(condition: {tenantId: "default"}, filter: {status: {equalTo: OPEN}, priority: {equalTo: HIGH}},
          orderBy: [CREATED_AT_DESC, TICKET_ID_DESC], first: 10) { totalCount nodes { ticketId subject priority status createdAt customerId } } }`,
        variables: {},
        totalPath: ['allTickets', 'totalCount'],
      },
      postgraphile5Query: `query OpenHigh { allTickets(condition: {tenantId: "default"}, filter: {status: {equalTo: open}, priority: {equalTo: high}},
          orderBy: [CREATED_AT_DESC, TICKET_ID_DESC], first: 10) { totalCount nodes { ticketId subject priority status createdAt customerId } } }`,
      simplest: [
        { query: `SELECT count(*) FROM tickets WHERE tenant_id = $1 AND status = 'open' AND priority = 'high'`, params: [TENANT] },
        {
          query: `SELECT ticket_id, subject, priority, status, created_at, customer_id FROM tickets
            WHERE tenant_id = $1 AND status = 'open' AND priority = 'high' ORDER BY created_at DESC, ticket_id DESC LIMIT 10`,
          params: [TENANT],
        },
      ],
    },
    {
      id: 'active-customers',
      label: 'active customers (first 10 + totalCount + voiceSummary)',
      query: `query Active { customers(filter: {status: ACTIVE}, first: 10) {
        totalCount voiceSummary nodes { customerId name email status createdAt } } }`,
      variables: {},
      filteredConnection: true,
      total: { path: ['customers', 'totalCount'], truth: sql`SELECT count(*)::int AS n FROM customers WHERE status = 'active'` },
      postgraphile: {
        query: `query Active { allCustomers(condition: {tenantId: "default"}, filter: {status: {equalTo: ACTIVE}}, orderBy: CUSTOMER_ID_ASC, first: 10) {
          totalCount nodes { customerId name email status createdAt } } }`,
        variables: {},
        totalPath: ['allCustomers', 'totalCount'],
      },
      postgraphile5Query: `query Active { allCustomers(condition: {tenantId: "default"}, filter: {status: {equalTo: active}}, orderBy: CUSTOMER_ID_ASC, first: 10) {
          totalCount nodes { customerId name email status createdAt } } }`,
      simplest: [
        { query: `SELECT count(*) FROM customers WHERE tenant_id = $1 AND status = 'active'`, params: [TENANT] },
        {
          query: `SELECT customer_id, name, email, status, created_at FROM customers WHERE tenant_id = $1 AND status = 'active' ORDER BY customer_id LIMIT 10`,
          params: [TENANT],
        },
      ],
    },
    {
      id: 'customer-tickets',
      label: 'one customer with their first 5 tickets',
      query: `query CustomerTickets($id: Int!) { customer(customerId: $id) { customerId name email status
        tickets(first: 5) { totalCount voiceSummary nodes { ticketId subject priority status createdAt } } } }`,
      variables: { id: 3 },
      filteredConnection: true,
      total: { path: ['customer', 'tickets', 'totalCount'], truth: sql`SELECT count(*)::int AS n FROM tickets WHERE customer_id = 3` },
      // Our order is priority (high first), newest, highest id: PRIORITY_RANK (the generated column our index starts with).
      postgraphile: {
        query: `query CustomerTickets($id: Int!) { customerByTenantIdAndCustomerId(tenantId: "default", customerId: $id) { customerId name email status
          ticketsByTenantIdAndCustomerId(orderBy: [PRIORITY_RANK_ASC, CREATED_AT_DESC, TICKET_ID_DESC], first: 5) {
            totalCount nodes { ticketId subject priority status createdAt } } } }`,
        variables: { id: 3 },
        totalPath: ['customerByTenantIdAndCustomerId', 'ticketsByTenantIdAndCustomerId', 'totalCount'],
      },
      simplest: [
        { query: `SELECT customer_id, name, email, status FROM customers WHERE tenant_id = $1 AND customer_id = $2`, params: [TENANT, 3] },
        { query: `SELECT count(*) FROM tickets WHERE tenant_id = $1 AND customer_id = $2`, params: [TENANT, 3] },
        {
          query: `SELECT ticket_id, subject, priority, status, created_at FROM tickets WHERE tenant_id = $1 AND customer_id = $2
            ORDER BY priority_rank, created_at DESC, ticket_id DESC LIMIT 5`,
          params: [TENANT, 3],
        },
      ],
    },
    {
      id: 'dau-30-days',
      label: 'daily active users, 30 days, with summary',
      query: `query Dau($from: Date!, $to: Date!) {
        metricSummary(metric: "daily_active_users", from: $from, to: $to) { dataPoints average min max latestValue trend voiceSummary }
        metrics(filter: {metric: "daily_active_users", from: $from, to: $to}, first: 30) { totalCount nodes { date value } } }`,
      variables: { from, to },
      filteredConnection: false,
      total: {
        path: ['metrics', 'totalCount'],
        truth: sql`SELECT count(*)::int AS n FROM metric_points WHERE metric = 'daily_active_users' AND date BETWEEN ${from}::date AND ${to}::date`,
      },
      // Without the metric summary (average, min, max, trend, voiceSummary): PostGraphile v4 has no aggregates without
      // another plugin (@graphile/pg-aggregates), so the anchor and the floor answer the page and its count only.
      postgraphile: {
        query: `query Dau($from: Date!, $to: Date!) { allMetricPoints(condition: {tenantId: "default", metric: "daily_active_users"},
          filter: {date: {greaterThanOrEqualTo: $from, lessThanOrEqualTo: $to}}, orderBy: [DATE_DESC], first: 30) { totalCount nodes { date value } } }`,
        variables: { from, to },
        totalPath: ['allMetricPoints', 'totalCount'],
      },
      simplest: [
        {
          query: `SELECT count(*) FROM metric_points WHERE tenant_id = $1 AND metric = 'daily_active_users' AND date BETWEEN $2 AND $3`,
          params: [TENANT, from, to],
        },
        {
          query: `SELECT date, value FROM metric_points WHERE tenant_id = $1 AND metric = 'daily_active_users' AND date BETWEEN $2 AND $3
            ORDER BY date DESC LIMIT 30`,
          params: [TENANT, from, to],
        },
      ],
    },
  ];
}

export function requestBody(op: Operation): string {
  return JSON.stringify({ query: op.query, variables: op.variables, operationName: op.query.match(/query (\w+)/)?.[1] });
}

/** The anchor's request for the same question. */
export function postgraphileBody(op: Operation): string {
  const { query, variables } = op.postgraphile;
  return JSON.stringify({ query, variables, operationName: query.match(/query (\w+)/)?.[1] });
}

/** The second anchor's request (PostGraphile v5). */
export function postgraphile5Body(op: Operation): string {
  const query = op.postgraphile5Query ?? op.postgraphile.query;
  return JSON.stringify({ query, variables: op.postgraphile.variables, operationName: query.match(/query (\w+)/)?.[1] });
}

export function dig(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<string, unknown> | null)?.[key], value);
}

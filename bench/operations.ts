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
}

const DAY_MS = 86_400_000;

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
    },
    {
      id: 'active-customers',
      label: 'active customers (first 10 + totalCount + voiceSummary)',
      query: `query Active { customers(filter: {status: ACTIVE}, first: 10) {
        totalCount voiceSummary nodes { customerId name email status createdAt } } }`,
      variables: {},
      filteredConnection: true,
      total: { path: ['customers', 'totalCount'], truth: sql`SELECT count(*)::int AS n FROM customers WHERE status = 'active'` },
    },
    {
      id: 'customer-tickets',
      label: 'one customer with their first 5 tickets',
      query: `query CustomerTickets($id: Int!) { customer(customerId: $id) { customerId name email status
        tickets(first: 5) { totalCount voiceSummary nodes { ticketId subject priority status createdAt } } } }`,
      variables: { id: 3 },
      filteredConnection: true,
      total: { path: ['customer', 'tickets', 'totalCount'], truth: sql`SELECT count(*)::int AS n FROM tickets WHERE customer_id = 3` },
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
    },
  ];
}

export function requestBody(op: Operation): string {
  return JSON.stringify({ query: op.query, variables: op.variables, operationName: op.query.match(/query (\w+)/)?.[1] });
}

export function dig(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<string, unknown> | null)?.[key], value);
}

// Ground truth for tests, computed from the seed files themselves (never from the code under test).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SeedCustomer { customer_id: number; name: string; email: string; created_at: string; status: 'active' | 'inactive' }
export interface SeedTicket { ticket_id: number; customer_id: number; subject: string; priority: 'high' | 'medium' | 'low'; created_at: string; status: 'open' | 'closed' }
export interface SeedMetric { metric: string; date: string; value: number }

export interface Dataset {
  customers: SeedCustomer[];
  tickets: SeedTicket[];
  metrics: SeedMetric[];
}

export function readDataset(dir: string): Dataset {
  const read = <T>(file: string): T[] => {
    try {
      return JSON.parse(readFileSync(join(dir, file), 'utf8')) as T[];
    } catch {
      return [];
    }
  };
  return { customers: read('customers.json'), tickets: read('support_tickets.json'), metrics: read('analytics.json') };
}

/** Seed timestamps without an offset are UTC. */
export const instant = (iso: string) => new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`).getTime();

export const priorityRank = { high: 1, medium: 2, low: 3 } as const;

/** A ticket filter as the GraphQL API takes it (enum values, ISO instants). */
export type TicketFilterArgs = {
  status?: string;
  priority?: string;
  customerId?: number;
  createdAfter?: string;
  createdBefore?: string;
  search?: string;
};

/** The tickets a filter matches, in a TicketOrder of the API, computed from the seed rows. */
export function expectedTickets(data: Dataset, filter: TicketFilterArgs, order = 'PRIORITY'): SeedTicket[] {
  const rows = data.tickets.filter(
    (t) =>
      (!filter.status || t.status === filter.status.toLowerCase()) &&
      (!filter.priority || t.priority === filter.priority.toLowerCase()) &&
      (filter.customerId == null || t.customer_id === filter.customerId) &&
      (!filter.createdAfter || instant(t.created_at) >= Date.parse(filter.createdAfter)) &&
      (!filter.createdBefore || instant(t.created_at) < Date.parse(filter.createdBefore)) &&
      (!filter.search || t.subject.toLowerCase().includes(filter.search.toLowerCase())),
  );
  const byNewest = (a: SeedTicket, b: SeedTicket) => instant(b.created_at) - instant(a.created_at) || b.ticket_id - a.ticket_id;
  const compare: Record<string, (a: SeedTicket, b: SeedTicket) => number> = {
    PRIORITY: (a, b) => priorityRank[a.priority] - priorityRank[b.priority] || byNewest(a, b),
    NEWEST_FIRST: byNewest,
    OLDEST_FIRST: (a, b) => -byNewest(a, b),
    TICKET_ID_ASC: (a, b) => a.ticket_id - b.ticket_id,
    TICKET_ID_DESC: (a, b) => b.ticket_id - a.ticket_id,
  };
  return rows.sort(compare[order]);
}

/** The ids of expectedTickets. */
export function expectedTicketIds(data: Dataset, filter: TicketFilterArgs, order = 'PRIORITY'): number[] {
  return expectedTickets(data, filter, order).map((t) => t.ticket_id);
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The `lastDays: n` window as [from, to] (inclusive days, UTC), computed here rather than taken from the server. */
export function lastDaysWindow(n: number): readonly [string, string] {
  const today = new Date(new Date().toISOString().slice(0, 10)).getTime();
  return [dayOf(today - (n - 1) * DAY_MS), dayOf(today)];
}

/** A metric's points of the last `lastDays` days, newest first, from the seed rows. */
export function expectedPoints(data: Dataset, metric: string, lastDays: number): { date: string; value: number }[] {
  const [from, to] = lastDaysWindow(lastDays);
  return data.metrics
    .filter((p) => p.metric === metric && p.date >= from && p.date <= to)
    .sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0))
    .map((p) => ({ date: p.date, value: p.value }));
}

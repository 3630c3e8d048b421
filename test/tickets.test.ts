// Query.tickets through the real server: every filter and order, both paging styles walked to the end,
// counts and voice summaries checked against the seed files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind } from './helpers/database';
import { type TestServer, generatedDataDir, startTestServer } from './helpers/server';
import { type Dataset, type TicketFilterArgs, expectedTickets, instant, readDataset } from './helpers/truth';

let server: TestServer;
let data: Dataset;

beforeAll(async () => {
  const dir = await generatedDataDir({ customers: 40, tickets: 260, days: 60, seed: 11, anchorDate: '2026-11-24' });
  data = readDataset(dir);
  server = await startTestServer({ data: dir });
});
afterAll(() => server?.stop());

const PAGE_QUERY = `query($filter: TicketFilter, $orderBy: TicketOrder, $first: Int, $after: String, $page: Int) {
  tickets(filter: $filter, orderBy: $orderBy, first: $first, after: $after, page: $page) {
    totalCount voiceSummary
    metadata { totalResults returnedResults page totalPages dataType voiceHint queryContext freshAsOf dataFreshness }
    edges { cursor node { ticketId customerId subject priority status createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

type Filter = TicketFilterArgs;
const expected = (filter: Filter, order = 'PRIORITY') => expectedTickets(data, filter, order);

async function walkByCursor(filter: Filter, orderBy: string, first: number) {
  const ids: number[] = [];
  let after: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const r: any = await server.query(PAGE_QUERY, { filter, orderBy, first, after });
    expect(r.errors).toBeUndefined();
    const c = r.data.tickets;
    ids.push(...c.edges.map((e: any) => e.node.ticketId));
    expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
    if (!c.pageInfo.hasNextPage) return ids;
    after = c.pageInfo.endCursor;
  }
  throw new Error('cursor walk did not end');
}

async function walkByPage(filter: Filter, orderBy: string, first: number) {
  const ids: number[] = [];
  const r1 = await server.query(PAGE_QUERY, { filter, orderBy, first, page: 1 });
  const pages = r1.data.tickets.metadata.totalPages;
  for (let page = 1; page <= pages; page++) {
    const r = await server.query(PAGE_QUERY, { filter, orderBy, first, page });
    expect(r.errors).toBeUndefined();
    expect(r.data.tickets.metadata.page).toBe(page);
    expect(r.data.tickets.pageInfo.hasNextPage).toBe(page < pages);
    ids.push(...r.data.tickets.edges.map((e: any) => e.node.ticketId));
  }
  return ids;
}

describe(`Query.tickets (${databaseKind})`, () => {
  it('defaults to priority HIGH > MEDIUM > LOW, then newest first, 10 per page', async () => {
    const r = await server.query(PAGE_QUERY, {});
    expect(r.status).toBe(200);
    const c = r.data.tickets;
    expect(c.edges).toHaveLength(10);
    expect(c.edges.map((e: any) => e.node.ticketId)).toEqual(expected({}).slice(0, 10).map((t) => t.ticket_id));
    expect(c.totalCount).toBe(data.tickets.length);
  });

  const orders = ['PRIORITY', 'NEWEST_FIRST', 'OLDEST_FIRST', 'TICKET_ID_ASC', 'TICKET_ID_DESC'];
  for (const orderBy of orders) {
    it(`walks every page by cursor and by page number in ${orderBy} order, no duplicates and no gaps`, async () => {
      const filter = { status: 'OPEN' };
      const truth = expected(filter, orderBy).map((t) => t.ticket_id);
      expect(truth.length).toBeGreaterThan(20);
      expect(await walkByCursor(filter, orderBy, 7)).toEqual(truth);
      expect(await walkByPage(filter, orderBy, 9)).toEqual(truth);
    });
  }

  it('walks the unfiltered set with the largest page size', async () => {
    const ids = await walkByCursor({}, 'PRIORITY', 100);
    expect(ids).toEqual(expected({}).map((t) => t.ticket_id));
  });

  const someCustomer = () => data.tickets[0].customer_id;
  const filters: [string, () => Filter][] = [
    ['status CLOSED', () => ({ status: 'CLOSED' })],
    ['priority HIGH', () => ({ priority: 'HIGH' })],
    ['priority LOW and status OPEN', () => ({ priority: 'LOW', status: 'OPEN' })],
    ['customerId', () => ({ customerId: someCustomer() })],
    ['search (case-insensitive substring of the subject)', () => ({ search: 'PASSWORD' })],
    ['search with LIKE wildcards taken literally', () => ({ search: '%' })],
    ['search with an underscore taken literally', () => ({ search: 'in_to' })],
    ['createdAfter inside a day', () => ({ createdAfter: '2026-11-01T13:45:10.500Z' })],
    ['createdBefore inside a day', () => ({ createdBefore: '2026-10-20T07:00:00Z' })],
    ['a window of whole days plus partial edges', () => ({ createdAfter: '2026-10-05T18:00:00Z', createdBefore: '2026-11-10T03:30:00Z', priority: 'MEDIUM' })],
    ['a window inside one day', () => ({ createdAfter: '2026-11-20T01:00:00Z', createdBefore: '2026-11-20T23:00:00Z' })],
    ['an empty window (after > before)', () => ({ createdAfter: '2026-11-20T00:00:00Z', createdBefore: '2026-11-10T00:00:00Z' })],
    ['a window at exact midnights', () => ({ createdAfter: '2026-10-01T00:00:00Z', createdBefore: '2026-11-01T00:00:00Z', status: 'OPEN' })],
  ];
  for (const [name, make] of filters) {
    it(`filters by ${name}: rows, totalCount and the voice summary's numbers match the seed files`, async () => {
      const filter = make();
      const truth = expected(filter);
      const r = await server.query(PAGE_QUERY, { filter, first: 100 });
      expect(r.errors).toBeUndefined();
      const c = r.data.tickets;
      expect(c.edges.map((e: any) => e.node.ticketId)).toEqual(truth.slice(0, 100).map((t) => t.ticket_id));
      expect(c.totalCount).toBe(truth.length);
      expect(c.metadata.totalResults).toBe(truth.length);
      expect(c.metadata.returnedResults).toBe(Math.min(100, truth.length));
      expect(c.metadata.dataType).toBe(truth.length ? 'TABULAR' : 'EMPTY');
      const high = truth.filter((t) => t.priority === 'high').length;
      if (truth.length === 0) expect(c.voiceSummary).toMatch(/^I found no /);
      else expect(c.voiceSummary).toContain(`I found ${truth.length} `);
      if (!filter.priority && truth.length) expect(c.voiceSummary).toContain(`${high} ${high === 1 ? 'is' : 'are'} high priority`);
      for (const e of c.edges) {
        const t = data.tickets.find((x) => x.ticket_id === e.node.ticketId)!;
        expect(e.node).toMatchObject({ customerId: t.customer_id, subject: t.subject, priority: t.priority.toUpperCase(), status: t.status.toUpperCase() });
        expect(Date.parse(e.node.createdAt)).toBe(instant(t.created_at));
      }
    });
  }

  it('reads a DateTime without an offset as UTC', async () => {
    const count = async (createdAfter: string) =>
      (await server.query('query($f: TicketFilter) { tickets(filter: $f) { totalCount } }', { f: { createdAfter } })).data.tickets.totalCount;
    const utc = await count('2026-11-01T13:45:10.500Z');
    expect(utc).toBe(expected({ createdAfter: '2026-11-01T13:45:10.500Z' }).length);
    expect(await count('2026-11-01T13:45:10.500')).toBe(utc);
    expect(await count('2026-11-01T15:45:10.500+02:00')).toBe(utc);
  });

  it('counts the whole filtered set, not the page (the prototype bug), and says so', async () => {
    const truth = expected({ status: 'OPEN' });
    const high = truth.filter((t) => t.priority === 'high').length;
    const r = await server.query(PAGE_QUERY, { filter: { status: 'OPEN' }, first: 3 });
    const c = r.data.tickets;
    expect(c.edges).toHaveLength(3);
    expect(c.totalCount).toBe(truth.length);
    expect(c.voiceSummary).toBe(`I found ${truth.length} open support tickets. ${high} ${high === 1 ? 'is' : 'are'} high priority.`);
    expect(c.metadata.queryContext).toBe(`Showing 3 of ${truth.length} support tickets (filtered by status=open)`);
    expect(c.metadata.voiceHint).toBe(`There are ${truth.length - 3} more support tickets; ask for the next page to hear them.`);
    expect(c.metadata.totalPages).toBe(Math.ceil(truth.length / 3));
    expect(c.metadata.page).toBe(1);
  });

  it('has no voice hint on the last page', async () => {
    const truth = expected({ priority: 'HIGH' });
    const pages = Math.ceil(truth.length / 10);
    const r = await server.query(PAGE_QUERY, { filter: { priority: 'HIGH' }, page: pages });
    expect(r.data.tickets.metadata.voiceHint).toBeNull();
    expect(r.data.tickets.metadata.returnedResults).toBe(truth.length - (pages - 1) * 10);
  });

  it('reports the age of the data (its last import), not the clock', async () => {
    const r1 = await server.query(PAGE_QUERY, { first: 1 });
    const freshAsOf = r1.data.tickets.metadata.freshAsOf;
    expect(freshAsOf).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const r2 = await server.query(PAGE_QUERY, { first: 1 });
    expect(r2.data.tickets.metadata.freshAsOf).toBe(freshAsOf);
    expect(r2.data.tickets.metadata.dataFreshness).toMatch(/^updated /);
  });

  it('Query.ticket returns one ticket by number, and null when absent', async () => {
    const t = data.tickets[5];
    const r = await server.query('query($id: Int!) { ticket(ticketId: $id) { ticketId subject customer { customerId } } missing: ticket(ticketId: 999999) { ticketId } }', { id: t.ticket_id });
    expect(r.data.ticket).toEqual({ ticketId: t.ticket_id, subject: t.subject, customer: { customerId: t.customer_id } });
    expect(r.data.missing).toBeNull();
  });
});

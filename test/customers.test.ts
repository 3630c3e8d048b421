// Query.customers / Query.customer through the real server, checked against the seed files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind } from './helpers/database';
import { type TestServer, generatedDataDir, startTestServer } from './helpers/server';
import { type Dataset, type SeedCustomer, instant, readDataset } from './helpers/truth';

let server: TestServer;
let data: Dataset;

beforeAll(async () => {
  const dir = await generatedDataDir({ customers: 90, tickets: 200, days: 40, seed: 5, anchorDate: '2026-11-24' });
  data = readDataset(dir);
  server = await startTestServer({ data: dir });
});
afterAll(() => server?.stop());

const QUERY = `query($filter: CustomerFilter, $orderBy: CustomerOrder, $first: Int, $after: String, $page: Int) {
  customers(filter: $filter, orderBy: $orderBy, first: $first, after: $after, page: $page) {
    totalCount voiceSummary
    metadata { totalResults returnedResults page totalPages dataType voiceHint queryContext }
    edges { cursor node { id customerId name email status createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Filter = { status?: string; search?: string; createdAfter?: string; createdBefore?: string };

function expected(filter: Filter, order = 'CUSTOMER_ID_ASC'): SeedCustomer[] {
  const s = filter.search?.toLowerCase();
  const rows = data.customers.filter(
    (c) =>
      (!filter.status || c.status === filter.status.toLowerCase()) &&
      (!s || c.name.toLowerCase().includes(s) || c.email.toLowerCase().includes(s)) &&
      (!filter.createdAfter || instant(c.created_at) >= Date.parse(filter.createdAfter)) &&
      (!filter.createdBefore || instant(c.created_at) < Date.parse(filter.createdBefore)),
  );
  const byId = (a: SeedCustomer, b: SeedCustomer) => a.customer_id - b.customer_id;
  // PostgreSQL compares text in the database's collation; compare names the same way ("C"-like for ASCII names here).
  const byName = (a: SeedCustomer, b: SeedCustomer) => (a.name < b.name ? -1 : a.name > b.name ? 1 : byId(a, b));
  const byCreated = (a: SeedCustomer, b: SeedCustomer) => instant(a.created_at) - instant(b.created_at) || byId(a, b);
  const compare: Record<string, (a: SeedCustomer, b: SeedCustomer) => number> = {
    CUSTOMER_ID_ASC: byId,
    CUSTOMER_ID_DESC: (a, b) => -byId(a, b),
    NAME_ASC: byName,
    NAME_DESC: (a, b) => -byName(a, b),
    OLDEST_FIRST: byCreated,
    NEWEST_FIRST: (a, b) => -byCreated(a, b),
  };
  return rows.sort(compare[order]);
}

describe(`Query.customers (${databaseKind})`, () => {
  for (const orderBy of ['CUSTOMER_ID_ASC', 'CUSTOMER_ID_DESC', 'NAME_ASC', 'NAME_DESC', 'NEWEST_FIRST', 'OLDEST_FIRST']) {
    it(`walks every page by cursor and by page number in ${orderBy} order`, async () => {
      const truth = expected({}, orderBy).map((c) => c.customer_id);
      const byCursor: number[] = [];
      let after: string | null = null;
      do {
        const r: any = await server.query(QUERY, { orderBy, first: 8, after });
        expect(r.errors).toBeUndefined();
        byCursor.push(...r.data.customers.edges.map((e: any) => e.node.customerId));
        after = r.data.customers.pageInfo.hasNextPage ? r.data.customers.pageInfo.endCursor : null;
      } while (after);
      expect(byCursor).toEqual(truth);
      const byPage: number[] = [];
      for (let page = 1; page <= Math.ceil(truth.length / 13); page++) {
        const r = await server.query(QUERY, { orderBy, first: 13, page });
        byPage.push(...r.data.customers.edges.map((e: any) => e.node.customerId));
      }
      expect(byPage).toEqual(truth);
    });
  }

  const filters: [string, Filter][] = [
    ['status ACTIVE', { status: 'ACTIVE' }],
    ['status INACTIVE', { status: 'INACTIVE' }],
    ['search in the name, any case', { search: 'ACME' }],
    ['search in the email', { search: 'contact1' }],
    ['createdAfter', { createdAfter: '2026-03-15T12:00:00Z' }],
    ['createdBefore', { createdBefore: '2025-09-01T06:30:00Z' }],
    ['a created window with status', { createdAfter: '2025-06-01T08:00:00Z', createdBefore: '2026-06-01T20:00:00Z', status: 'ACTIVE' }],
    ['a search that matches nothing', { search: 'no such customer' }],
  ];
  for (const [name, filter] of filters) {
    it(`filters by ${name}, with exact counts and summary`, async () => {
      const truth = expected(filter);
      const r = await server.query(QUERY, { filter, first: 100 });
      expect(r.errors).toBeUndefined();
      const c = r.data.customers;
      expect(c.edges.map((e: any) => e.node.customerId)).toEqual(truth.map((x) => x.customer_id));
      expect(c.totalCount).toBe(truth.length);
      const active = truth.filter((x) => x.status === 'active').length;
      if (!truth.length) expect(c.voiceSummary).toMatch(/^I found no /);
      else if (filter.status) expect(c.voiceSummary).toMatch(new RegExp(`^I found ${truth.length} ${filter.status.toLowerCase()} customers?`));
      else expect(c.voiceSummary).toContain(`I found ${truth.length} customer`);
      if (!filter.status && truth.length) expect(c.voiceSummary).toContain(`${active} ${active === 1 ? 'is' : 'are'} active.`);
      for (const e of c.edges) {
        const x = data.customers.find((y) => y.customer_id === e.node.customerId)!;
        expect(e.node).toMatchObject({ name: x.name, email: x.email, status: x.status.toUpperCase() });
        expect(Date.parse(e.node.createdAt)).toBe(instant(x.created_at));
      }
    });
  }

  it('says how many customers and how many are active, over all of them', async () => {
    const active = data.customers.filter((c) => c.status === 'active').length;
    const r = await server.query(QUERY, { first: 5 });
    expect(r.data.customers.voiceSummary).toBe(`I found ${data.customers.length} customers. ${active} are active.`);
    expect(r.data.customers.metadata.queryContext).toBe(`Showing 5 of ${data.customers.length} customers`);
  });

  it('Query.customer finds one by number, null when absent; node(id) resolves global ids', async () => {
    const c = data.customers[3];
    const r = await server.query(
      'query($id: Int!) { customer(customerId: $id) { id customerId name } none: customer(customerId: 424242) { id } }',
      { id: c.customer_id },
    );
    expect(r.data.customer).toMatchObject({ customerId: c.customer_id, name: c.name });
    expect(r.data.none).toBeNull();
    const node = await server.query('query($id: ID!) { node(id: $id) { id ... on Customer { customerId email } } }', { id: r.data.customer.id });
    expect(node.data.node).toEqual({ id: r.data.customer.id, customerId: c.customer_id, email: c.email });
    const ticketId = Buffer.from(`Ticket:${data.tickets[0].ticket_id}`).toString('base64');
    const ticketNode = await server.query('query($id: ID!) { node(id: $id) { ... on Ticket { ticketId } } }', { id: ticketId });
    expect(ticketNode.data.node).toEqual({ ticketId: data.tickets[0].ticket_id });
    const missing = await server.query('{ node(id: "Q3VzdG9tZXI6OTk5OTk5") { id } }');
    expect(missing.data.node).toBeNull();
  });

  it("Customer.tickets pages one customer's tickets, with that customer's counts", async () => {
    const customerId = data.tickets[0].customer_id;
    const own = data.tickets.filter((t) => t.customer_id === customerId);
    const open = own.filter((t) => t.status === 'open');
    const r = await server.query(
      `query($id: Int!) { customer(customerId: $id) {
         all: tickets(first: 100) { totalCount nodes { ticketId customerId } }
         open: tickets(filter: { status: OPEN }, first: 1) { totalCount voiceSummary pageInfo { hasNextPage endCursor } }
       } }`,
      { id: customerId },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.customer.all.totalCount).toBe(own.length);
    expect(new Set(r.data.customer.all.nodes.map((n: any) => n.ticketId))).toEqual(new Set(own.map((t) => t.ticket_id)));
    expect(r.data.customer.open.totalCount).toBe(open.length);
    const paged = await server.query('query($id: Int!) { customer(customerId: $id) { tickets(first: 2, page: 2, orderBy: TICKET_ID_ASC) { metadata { page } nodes { ticketId } } } }', { id: customerId });
    expect(paged.data.customer.tickets.nodes.map((n: any) => n.ticketId)).toEqual(own.map((t) => t.ticket_id).sort((a, b) => a - b).slice(2, 4));
    expect(paged.data.customer.tickets.metadata.page).toBe(2);
    if (open.length > 1) {
      const next = await server.query(
        'query($id: Int!, $after: String) { customer(customerId: $id) { tickets(filter: { status: OPEN }, first: 100, after: $after) { nodes { ticketId } } } }',
        { id: customerId, after: r.data.customer.open.pageInfo.endCursor },
      );
      expect(next.data.customer.tickets.nodes).toHaveLength(open.length - 1);
    }
  });

  it('classifies a page with nested ticket lists as HIERARCHICAL', async () => {
    const r = await server.query('{ customers(first: 2) { metadata { dataType } nodes { tickets(first: 1) { totalCount } } } }');
    expect(r.data.customers.metadata.dataType).toBe('HIERARCHICAL');
  });
});

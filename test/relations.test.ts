// Relations without N+1: the number of SQL statements for a page does not grow with the page size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind } from './helpers/database';
import { type TestServer, startTestServer } from './helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ data: { customers: 150, tickets: 400, days: 30, seed: 9, anchorDate: '2026-11-24' } });
});
afterAll(() => server?.stop());

async function statementsFor(query: string, variables?: Record<string, unknown>) {
  server.statements.length = 0;
  const r = await server.query(query, variables);
  expect(r.errors).toBeUndefined();
  return { count: server.statements.length, data: r.data };
}

describe(`counts beside the page (${databaseKind})`, () => {
  it('sends the count statement before the page statement when totalCount is asked for, and not at all otherwise', async () => {
    const counted = await statementsFor('{ tickets(filter: {status: OPEN}, first: 3) { totalCount nodes { ticketId } } }');
    expect(counted.count).toBe(2);
    expect(server.statements[0]).toMatch(/ticket_counts/);
    expect(server.statements[1]).toMatch(/from "tickets"/);
    const plain = await statementsFor('{ tickets(filter: {status: OPEN}, first: 3) { nodes { ticketId } } }');
    expect(plain.count).toBe(1);
    expect(server.statements.join('\n')).not.toMatch(/ticket_counts|count\(/);
  });

  it('does not count the outer connection for a totalCount asked only of a nested one', async () => {
    await statementsFor('{ customers(first: 2) { nodes { tickets(first: 1) { totalCount } } } }');
    expect(server.statements.join('\n')).not.toMatch(/customer_counts/);
    const counted = await statementsFor('{ customers(first: 2) { ...counts nodes { customerId } } } fragment counts on CustomerConnection { voiceSummary }');
    expect(counted.data.customers.voiceSummary).toMatch(/customers/);
    expect(server.statements[0]).toMatch(/customer_counts/);
  });
});

describe(`one summary statement per metric and period per request (${databaseKind})`, () => {
  it('metricSummary and a metrics totalCount over the same period share one aggregate; another period reads its own', async () => {
    const query = `query ($from: Date!, $to: Date!, $other: Date!) {
      summary: metricSummary(metric: "daily_active_users", from: $from, to: $to) { dataPoints average }
      points: metrics(filter: {metric: "daily_active_users", from: $from, to: $to}, first: 3) { totalCount voiceSummary nodes { value } }
      again: metricSummary(metric: "daily_active_users", from: $other, to: $to) { dataPoints } }`;
    const same = await statementsFor(query, { from: '2026-11-10', to: '2026-11-24', other: '2026-11-10' });
    const summaries = () => server.statements.filter((statement) => /ntile/.test(statement)).length;
    expect(summaries()).toBe(1);
    expect(same.data.summary.dataPoints).toBe(15);
    expect(same.data.points.totalCount).toBe(15);
    const other = await statementsFor(query, { from: '2026-11-10', to: '2026-11-24', other: '2026-11-20' });
    expect(summaries()).toBe(2);
    expect(other.data.again.dataPoints).toBe(5);
  });
});

describe(`N+1 guard (${databaseKind})`, () => {
  it('tickets { customer { name } } costs the same number of statements for 10 and 100 tickets', async () => {
    const query = 'query($n: Int) { tickets(first: $n, orderBy: TICKET_ID_ASC) { nodes { ticketId customer { name email } } } }';
    const small = await statementsFor(query, { n: 10 });
    const large = await statementsFor(query, { n: 100 });
    expect(large.data.tickets.nodes).toHaveLength(100);
    expect(new Set(large.data.tickets.nodes.map((n: any) => n.customer.name)).size).toBeGreaterThan(10);
    expect(large.count).toBe(small.count);
    expect(large.count).toBeLessThanOrEqual(2); // the page, then one batched customer load
  });

  it('customers { tickets { totalCount nodes } } costs the same for 5 and 100 customers', async () => {
    const query = 'query($n: Int) { customers(first: $n) { totalCount nodes { name tickets(first: 3, filter: { status: OPEN }) { totalCount voiceSummary nodes { subject customer { customerId } } } } } }';
    const small = await statementsFor(query, { n: 5 });
    const large = await statementsFor(query, { n: 100 });
    expect(large.data.customers.nodes).toHaveLength(100);
    expect(large.count).toBe(small.count);
  });

  it('batched ticket pages and counts per customer match the per-customer query', async () => {
    const batched = await server.query('{ customers(first: 30) { nodes { customerId tickets(first: 2, orderBy: NEWEST_FIRST) { totalCount nodes { ticketId } } } } }');
    for (const c of batched.data.customers.nodes.slice(0, 30)) {
      const single = await server.query('query($id: Int) { tickets(filter: { customerId: $id }, first: 2, orderBy: NEWEST_FIRST) { totalCount nodes { ticketId } } }', { id: c.customerId });
      expect(c.tickets).toEqual(single.data.tickets);
    }
  });
});

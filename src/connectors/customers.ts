// CRM customers: filtered, ordered pages in SQL and exact active/inactive counts over the whole filtered set.
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { customers } from '../db/schema';
import { countWindow, windowValues, windowedCountQuery } from './counts';
import { type OrderKey, fetchPage, likePattern, sourceFreshness } from './paging';
import { WhereParts, byIdStatements, pageStatements, shapeCache } from './statements';
import type { Connector, ListQuery, Page } from './types';

export const CUSTOMER_STATUSES = ['active', 'inactive'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export interface Customer {
  customerId: number;
  name: string;
  email: string;
  status: CustomerStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface CustomerFilter {
  status?: CustomerStatus | null;
  /** Case-insensitive substring of name or email. */
  search?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

export const CUSTOMER_ORDERS = [
  'CUSTOMER_ID_ASC',
  'CUSTOMER_ID_DESC',
  'NAME_ASC',
  'NAME_DESC',
  'NEWEST_FIRST',
  'OLDEST_FIRST',
] as const;
export type CustomerOrder = (typeof CUSTOMER_ORDERS)[number];

export interface CustomerSummary {
  total: number;
  byStatus: Record<CustomerStatus, number>;
}

const id = sql`${customers.customerId}`;
const name = sql`${customers.name}`;
const created = sql`${customers.createdAt}`;

const byId = (dir: 'asc' | 'desc'): OrderKey<Customer> => ({
  columns: [{ expr: id, dir }],
  key: (c) => [c.customerId],
  shape: ['number'],
});
const byName = (dir: 'asc' | 'desc'): OrderKey<Customer> => ({
  columns: [
    { expr: name, dir },
    { expr: id, dir },
  ],
  key: (c) => [c.name, c.customerId],
  shape: ['string', 'number'],
});
const byCreated = (dir: 'asc' | 'desc'): OrderKey<Customer> => ({
  columns: [
    { expr: created, dir, cast: 'timestamptz' },
    { expr: id, dir },
  ],
  key: (c) => [c.createdAt.toISOString(), c.customerId],
  shape: ['timestamp', 'number'],
});

const orderKeys: Record<CustomerOrder, OrderKey<Customer>> = {
  CUSTOMER_ID_ASC: byId('asc'),
  CUSTOMER_ID_DESC: byId('desc'),
  NAME_ASC: byName('asc'),
  NAME_DESC: byName('desc'),
  NEWEST_FIRST: byCreated('desc'),
  OLDEST_FIRST: byCreated('asc'),
};

/** The filter as statement parts: shape, values and conditions (with placeholders). */
function customerWhere(tenantId: string, filter: CustomerFilter): WhereParts {
  return new WhereParts()
    .add('tenantId', tenantId, (v) => sql`${customers.tenantId} = ${v}`)
    .add('status', filter.status || undefined, (v) => sql`${customers.status} = ${v}`)
    .add('search', filter.search ? likePattern(filter.search) : undefined, (v) => sql`(${customers.name} ILIKE ${v} OR ${customers.email} ILIKE ${v})`)
    .add('createdAfter', filter.createdAfter?.toISOString(), (v) => sql`${customers.createdAt} >= ${v}::timestamptz`)
    .add('createdBefore', filter.createdBefore?.toISOString(), (v) => sql`${customers.createdAt} < ${v}::timestamptz`);
}

interface CountRow {
  status: CustomerStatus;
  n: number | string;
}

const customerColumns = {
  customerId: customers.customerId,
  name: customers.name,
  email: customers.email,
  status: customers.status,
  createdAt: customers.createdAt,
  updatedAt: customers.updatedAt,
};

export type CustomersConnector = Connector<Customer, CustomerFilter, CustomerOrder, CustomerSummary> & {
  byIds(tenantId: string, customerIds: readonly number[]): Promise<Customer[]>;
  /** Distinct customer names, alphabetically, at most `limit` (the offline recogniser's vocabulary of names). */
  names(tenantId: string, limit?: number): Promise<string[]>;
};

export function createCustomersConnector({ database }: { database: Database }): CustomersConnector {
  const { db } = database;

  const listPage = pageStatements<Customer>(database, 'customers_list', (where, orderBy) =>
    db.select(customerColumns).from(customers).where(where).orderBy(orderBy),
  );
  const summaryShapes = shapeCache<ReturnType<typeof database.statement<CountRow>>>();

  async function list(tenantId: string, query: ListQuery<CustomerFilter, CustomerOrder>): Promise<Page<Customer>> {
    const where = customerWhere(tenantId, query.filter);
    return fetchPage(query.page, query.order, orderKeys[query.order], (page) => listPage(where, page));
  }

  async function summarize(tenantId: string, filter: CustomerFilter): Promise<CustomerSummary> {
    const byStatus: Record<CustomerStatus, number> = { active: 0, inactive: 0 };
    const window = countWindow(filter.createdAfter, filter.createdBefore);
    if (window.possible) {
      let rows: CountRow[];
      if (filter.search) {
        const where = customerWhere(tenantId, filter);
        const statement = summaryShapes(`rows|${where.shape}`, () =>
          database.statement<CountRow>(() => sql`SELECT status, count(*)::int AS n FROM customers WHERE ${and(...where.conditions())} GROUP BY 1`),
        );
        rows = await statement(where.values);
      } else {
        const base = customerWhere(tenantId, { status: filter.status });
        const parts = windowValues(window);
        const statement = summaryShapes(`window|${base.shape}|${parts.shape}`, () =>
          database.statement<CountRow>(() =>
            windowedCountQuery(window, {
              groupBy: sql`status`,
              rollup: (days) => sql`SELECT status, n FROM customer_counts WHERE tenant_id = ${sql.placeholder('tenantId')}
                ${filter.status ? sql`AND status = ${sql.placeholder('status')}` : sql``} ${days}`,
              direct: (range) =>
                sql`SELECT status, count(*) AS n FROM customers
                  WHERE ${and(
                    ...base.conditions(),
                    range.from ? sql`${customers.createdAt} >= ${range.from}` : undefined,
                    range.to ? sql`${customers.createdAt} < ${range.to}` : undefined,
                  )} GROUP BY 1`,
            }),
          ),
        );
        rows = await statement({ ...base.values, ...parts.values });
      }
      for (const row of rows) byStatus[row.status] = Number(row.n);
    }
    return { total: byStatus.active + byStatus.inactive, byStatus };
  }

  const byIds = byIdStatements(database, 'customers', (where) => db.select(customerColumns).from(customers).where(where), {
    tenant: customers.tenantId,
    id: customers.customerId,
  });

  async function names(tenantId: string, limit = 500): Promise<string[]> {
    const rows = await db.selectDistinct({ name: customers.name }).from(customers).where(eq(customers.tenantId, tenantId)).orderBy(customers.name).limit(limit);
    return rows.map((r) => r.name);
  }

  return {
    source: 'customers',
    list,
    summarize,
    byIds,
    names,
    freshness: sourceFreshness(database, 'customers'),
  };
}

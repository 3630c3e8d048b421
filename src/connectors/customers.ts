// CRM customers: filtered, ordered pages in SQL and exact active/inactive counts over the whole filtered set.
import { type SQL, and, eq, gte, ilike, inArray, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { customers } from '../db/schema';
import { countWindow, windowedCountQuery } from './counts';
import { type OrderKey, fetchPage, likePattern, sourceFreshness } from './paging';
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

function filterConditions(tenantId: string, filter: CustomerFilter): SQL[] {
  const pattern = filter.search ? likePattern(filter.search) : undefined;
  const conditions: (SQL | undefined)[] = [
    eq(customers.tenantId, tenantId),
    filter.status ? eq(customers.status, filter.status) : undefined,
    pattern ? or(ilike(customers.name, pattern), ilike(customers.email, pattern)) : undefined,
    filter.createdAfter ? gte(customers.createdAt, filter.createdAfter) : undefined,
    filter.createdBefore ? lt(customers.createdAt, filter.createdBefore) : undefined,
  ];
  return conditions.filter((c): c is SQL => c !== undefined);
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
};

export function createCustomersConnector({ database }: { database: Database }): CustomersConnector {
  const { db } = database;

  async function list(tenantId: string, query: ListQuery<CustomerFilter, CustomerOrder>): Promise<Page<Customer>> {
    return fetchPage(query.page, query.order, orderKeys[query.order], (after, orderBy, limit, offset) =>
      db
        .select(customerColumns)
        .from(customers)
        .where(and(...filterConditions(tenantId, query.filter), after))
        .orderBy(orderBy)
        .limit(limit)
        .offset(offset),
    );
  }

  async function summarize(tenantId: string, filter: CustomerFilter): Promise<CustomerSummary> {
    const byStatus: Record<CustomerStatus, number> = { active: 0, inactive: 0 };
    const window = countWindow(filter.createdAfter, filter.createdBefore);
    if (window.possible) {
      let query: SQL;
      if (filter.search) {
        query = sql`SELECT status, count(*)::int AS n FROM customers WHERE ${and(...filterConditions(tenantId, filter))} GROUP BY 1`;
      } else {
        query = windowedCountQuery(window, {
          groupBy: sql`status`,
          rollup: (days) => sql`SELECT status, n FROM customer_counts WHERE tenant_id = ${tenantId}
            ${filter.status ? sql`AND status = ${filter.status}` : sql``} ${days}`,
          direct: (range) =>
            sql`SELECT status, count(*) AS n FROM customers
              WHERE ${and(...filterConditions(tenantId, { status: filter.status, createdAfter: range.from, createdBefore: range.to }))} GROUP BY 1`,
        });
      }
      const rows = await database.rows<{ status: CustomerStatus; n: number | string }>(query);
      for (const row of rows) byStatus[row.status] = Number(row.n);
    }
    return { total: byStatus.active + byStatus.inactive, byStatus };
  }

  async function byIds(tenantId: string, customerIds: readonly number[]): Promise<Customer[]> {
    if (customerIds.length === 0) return [];
    return db
      .select(customerColumns)
      .from(customers)
      .where(and(eq(customers.tenantId, tenantId), inArray(customers.customerId, [...customerIds])));
  }

  return {
    source: 'customers',
    list,
    summarize,
    byIds,
    freshness: (tenantId) => sourceFreshness(database, tenantId, 'customers'),
  };
}

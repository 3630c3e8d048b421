// The Customer type (a Relay node, loaded in batches), its filter, and Query.customers / Query.customer.
import { z } from 'zod';
import type { Customer, CustomerFilter } from '../connectors/customers';
import { customersVoiceSummary } from '../insights';
import { builder } from './builder';
import { connectionResult, pageRequest, pagingArgs, selects, summaryFor } from './connection';
import { fetchCustomerWithTickets } from './customer-tickets';
import { CustomerOrderEnum, CustomerStatusEnum } from './enums';
import { parseIntegerId, searchValidation } from './validation';

export const CustomerRef = builder.loadableNodeRef('Customer', {
  id: { resolve: (c: Customer) => c.customerId, parse: parseIntegerId },
  load: async (ids: number[], ctx) => ctx.connectors.customers.byIds(ctx.tenantId, ids),
  sort: (c) => c.customerId,
});

CustomerRef.implement({
  description: 'A CRM customer.',
  fields: (t) => ({
    customerId: t.exposeInt('customerId', { description: 'The customer number used by the CRM.' }),
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    status: t.expose('status', { type: CustomerStatusEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const CustomerFilterInput = builder.inputType('CustomerFilter', {
  fields: (t) => ({
    status: t.field({ type: CustomerStatusEnum }),
    search: t.string({ description: 'Case-insensitive substring of name or email, 1 to 200 characters.', validate: searchValidation }),
    createdAfter: t.field({ type: 'DateTime', description: 'Created at or after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Created before this instant.' }),
  }),
});

export const CustomerConnection = builder.connectionObject({ type: CustomerRef, name: 'CustomerConnection' }, { name: 'CustomerEdge' });

builder.queryFields((t) => ({
  customers: t.field({
    type: CustomerConnection,
    description: 'Customers, filtered and paged; totalCount and voiceSummary cover the whole filtered set.',
    args: {
      filter: t.arg({ type: CustomerFilterInput }),
      orderBy: t.arg({ type: CustomerOrderEnum, defaultValue: 'CUSTOMER_ID_ASC' }),
      ...pagingArgs(t.arg),
    },
    resolve: async (_root, args, ctx, info) => {
      const filter: CustomerFilter = { ...args.filter };
      const order = args.orderBy ?? 'CUSTOMER_ID_ASC';
      const { customers } = ctx.connectors;
      const summary = summaryFor(info, () => customers.summarize(ctx.tenantId, filter));
      const page = await customers.list(ctx.tenantId, { filter, order, page: pageRequest(args) });
      return connectionResult(page, {
        noun: 'customers',
        kind: 'rows',
        nested: selects(info, 'tickets'),
        filter: { ...filter },
        summary,
        total: (s) => s.total,
        speak: (s) => customersVoiceSummary({ ...s, filter }),
        freshness: () => customers.freshness(ctx.tenantId),
      });
    },
  }),
  customer: t.field({
    type: CustomerRef,
    nullable: true,
    description: 'One customer by customer number; null when there is none.',
    args: {
      customerId: t.arg.int({
        required: true,
        validate: { schema: z.number().int().min(1, { message: 'must be a positive customer number' }) },
      }),
    },
    // With a plain first page of their tickets selected, the customer and that page come in one statement.
    resolve: async (_root, args, ctx, info) => {
      const prime = (customer: Customer) => CustomerRef.getDataloader(ctx).prime(customer.customerId, customer);
      return (await fetchCustomerWithTickets(ctx, args.customerId, info, prime)) === 'none' ? null : args.customerId;
    },
  }),
}));

// The Ticket type (a Relay node), its filter and order, Query.tickets / Query.ticket, and the
// customer ↔ ticket relations (Ticket.customer and Customer.tickets, both batched: no N+1).
import DataLoader from 'dataloader';
import { z } from 'zod';
import type { Ticket, TicketFilter, TicketOrder, TicketSummary } from '../connectors/tickets';
import type { GraphQLContext } from './context';
import { ticketsVoiceSummary } from '../insights';
import { builder } from './builder';
import { connectionResult, pageRequest, pagingArgs, summaryFor } from './connection';
import { CustomerRef } from './customer';
import { prefetchedTickets } from './customer-tickets';
import { TicketOrderEnum, TicketPriorityEnum, TicketStatusEnum } from './enums';
import { parseIntegerId, searchValidation } from './validation';

export const TicketRef = builder.loadableNodeRef('Ticket', {
  id: { resolve: (t: Ticket) => t.ticketId, parse: parseIntegerId },
  load: async (ids: number[], ctx) => ctx.connectors.tickets.byIds(ctx.tenantId, ids),
  sort: (t) => t.ticketId,
});

TicketRef.implement({
  description: 'A support ticket.',
  fields: (t) => ({
    ticketId: t.exposeInt('ticketId', { description: 'The ticket number used by the help desk.' }),
    subject: t.exposeString('subject'),
    priority: t.expose('priority', { type: TicketPriorityEnum }),
    status: t.expose('status', { type: TicketStatusEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    customerId: t.exposeInt('customerId'),
    customer: t.field({
      type: CustomerRef,
      nullable: true,
      description: 'Loaded in one batch for a whole page of tickets.',
      resolve: (ticket) => ticket.customerId,
    }),
  }),
});

export const TicketFilterInput = builder.inputType('TicketFilter', {
  fields: (t) => ({
    status: t.field({ type: TicketStatusEnum }),
    priority: t.field({ type: TicketPriorityEnum }),
    customerId: t.int({
      description: 'Only this customer’s tickets (ignored under Customer.tickets, which is already one customer).',
      validate: { int: true, min: [1, { message: 'must be a positive customer number' }] },
    }),
    createdAfter: t.field({ type: 'DateTime', description: 'Created at or after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Created before this instant.' }),
    search: t.string({ description: 'Case-insensitive substring of the subject, 1 to 200 characters.', validate: searchValidation }),
  }),
});

export const TicketConnection = builder.connectionObject({ type: TicketRef, name: 'TicketConnection' }, { name: 'TicketEdge' });

function ticketConnection(ctx: GraphQLContext, filter: TicketFilter, page: Parameters<typeof connectionResult<Ticket, TicketSummary>>[0], summary: () => Promise<TicketSummary>) {
  return connectionResult(page, {
    noun: 'support tickets',
    kind: 'rows',
    filter: { ...filter },
    summary,
    total: (s) => s.total,
    speak: (s) => ticketsVoiceSummary({ ...s, filter }),
    freshness: () => ctx.connectors.tickets.freshness(ctx.tenantId),
  });
}

builder.queryFields((t) => ({
  tickets: t.field({
    type: TicketConnection,
    description: 'Support tickets, filtered and paged (default order: priority, then newest); counts cover the whole filtered set.',
    args: {
      filter: t.arg({ type: TicketFilterInput }),
      orderBy: t.arg({ type: TicketOrderEnum, defaultValue: 'PRIORITY' }),
      ...pagingArgs(t.arg),
    },
    resolve: async (_root, args, ctx, info) => {
      const filter: TicketFilter = { ...args.filter };
      const { tickets } = ctx.connectors;
      const summary = summaryFor(info, () => tickets.summarize(ctx.tenantId, filter));
      const page = await tickets.list(ctx.tenantId, { filter, order: args.orderBy ?? 'PRIORITY', page: pageRequest(args) });
      return ticketConnection(ctx, filter, page, summary);
    },
  }),
  ticket: t.field({
    type: TicketRef,
    nullable: true,
    description: 'One ticket by ticket number; null when there is none.',
    args: {
      ticketId: t.arg.int({
        required: true,
        validate: { schema: z.number().int().min(1, { message: 'must be a positive ticket number' }) },
      }),
    },
    resolve: (_root, args) => args.ticketId,
  }),
}));

builder.objectField(CustomerRef, 'tickets', (t) =>
  t.loadable({
    type: TicketConnection,
    description: 'This customer’s tickets; a page of customers loads theirs in one statement.',
    byPath: true,
    args: {
      filter: t.arg({ type: TicketFilterInput }),
      orderBy: t.arg({ type: TicketOrderEnum, defaultValue: 'PRIORITY' }),
      ...pagingArgs(t.arg),
    },
    load: async (customerIds: number[], ctx: GraphQLContext, args) => {
      const filter: TicketFilter = { ...args.filter, customerId: null };
      const order: TicketOrder = args.orderBy ?? 'PRIORITY';
      const { tickets } = ctx.connectors;
      // A page Query.customer already fetched with the customer (customer-tickets.ts) runs no statement here.
      const fetched = new Map(customerIds.map((customerId) => [customerId, prefetchedTickets(ctx, customerId, args)]));
      const rest = customerIds.filter((customerId) => !fetched.get(customerId));
      const pages = rest.length ? await tickets.listForCustomers(ctx.tenantId, rest, { filter, order, page: pageRequest(args) }) : new Map();
      // Counts for every customer of the batch in one statement, only if a client asks for them.
      const summaries = new DataLoader<number, TicketSummary>(async (ids) => {
        const byCustomer = await tickets.summarizeForCustomers(ctx.tenantId, ids, filter);
        return ids.map((id) => byCustomer.get(id)!);
      });
      return customerIds.map((customerId) => {
        const ready = fetched.get(customerId);
        const summary = ready?.summary;
        return ticketConnection(ctx, { ...filter, customerId }, ready?.page ?? pages.get(customerId)!, () =>
          summary ? Promise.resolve(summary) : summaries.load(customerId),
        );
      });
    },
    resolve: (customer) => customer.customerId,
  }),
);

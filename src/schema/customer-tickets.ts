// One statement for the usual nested question, `customer(customerId) { … tickets(first: N) { … } }`. Query.customer
// looks at its own selection: when it holds one plain first page of tickets (no filter, no cursor, no directive), it
// asks the tickets connector for the customer, that page and, when the page's totalCount, voiceSummary or metadata is
// selected, the customer's ticket counts at once. The customer goes into its DataLoader and the page into a
// per-request cache that Customer.tickets reads before running statements of its own. Anything else (a filter, a
// cursor, two `tickets` fields under aliases) takes the batched path, which gives the same answers.
import { type GraphQLObjectType, type GraphQLResolveInfo, getArgumentValues } from 'graphql';
import type { Customer } from '../connectors/customers';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../connectors/paging';
import { TICKET_ORDERS, type Ticket, type TicketOrder, type TicketSummary } from '../connectors/tickets';
import type { Page } from '../connectors/types';
import { asksForSummary, fieldsIn } from './connection';
import { type GraphQLContext, requestScoped } from './context';

interface FirstTickets {
  page: Page<Ticket>;
  /** Null when the client did not ask for the counts (Customer.tickets counts on demand as usual). */
  summary: TicketSummary | null;
}

/** The arguments of Customer.tickets that matter here, as its resolver receives them. */
interface TicketsArgs {
  filter?: unknown;
  orderBy?: TicketOrder | null;
  first?: number | null;
  after?: string | null;
  page?: number | null;
}

const firstTickets = requestScoped(() => new Map<string, FirstTickets>());
const keyOf = (customerId: number, order: TicketOrder, first: number) => `${customerId}|${order}|${first}`;

/** A plain first page: what the one statement answers (anything else is validated and run by Customer.tickets). */
function plainFirstPage(args: TicketsArgs): { order: TicketOrder; first: number } | null {
  const order = args.orderBy ?? 'PRIORITY';
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (args.filter != null || args.after != null || (args.page != null && args.page !== 1)) return null;
  if (!TICKET_ORDERS.includes(order) || !Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) return null;
  return { order, first };
}

/** The page (and counts) Query.customer fetched for these arguments of Customer.tickets, if it did. */
export function prefetchedTickets(ctx: GraphQLContext, customerId: number, args: TicketsArgs): FirstTickets | undefined {
  const plain = plainFirstPage(args);
  return plain ? firstTickets(ctx).get(keyOf(customerId, plain.order, plain.first)) : undefined;
}

/**
 * For Query.customer: when the selection asks for one plain first page of the customer's tickets, fetches the customer
 * with it in one statement, hands the customer to `prime` (the customer DataLoader) and keeps the page for
 * Customer.tickets. Returns 'none' when there is no such customer, 'fetched' when primed, 'skipped' otherwise.
 */
export async function fetchCustomerWithTickets(
  ctx: GraphQLContext,
  customerId: number,
  info: GraphQLResolveInfo,
  prime: (customer: Customer) => void,
): Promise<'none' | 'fetched' | 'skipped'> {
  if (info.fieldNodes.length !== 1) return 'skipped';
  const fields = fieldsIn(info.fieldNodes[0].selectionSet, info.fragments, (field) => field.name.value === 'tickets', false);
  if (fields.length !== 1 || fields[0].directives?.length) return 'skipped';
  const definition = (info.schema.getType('Customer') as GraphQLObjectType).getFields().tickets;
  let args: TicketsArgs;
  try {
    args = getArgumentValues(definition, fields[0], info.variableValues) as TicketsArgs;
  } catch {
    return 'skipped'; // Customer.tickets reports the error.
  }
  const plain = plainFirstPage(args);
  if (!plain) return 'skipped';
  const counts = asksForSummary(fields[0].selectionSet, info.fragments);
  const found = await ctx.connectors.tickets.customerWithFirstTickets(ctx.tenantId, customerId, { ...plain, counts });
  if (!found) return 'none';
  prime(found.customer);
  firstTickets(ctx).set(keyOf(customerId, plain.order, plain.first), { page: found.page, summary: found.summary });
  return 'fetched';
}

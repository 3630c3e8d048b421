// The agent's seven tools (the prototype's names), built on the connectors. Each returns compact JSON: a spoken summary
// computed from whole-set aggregates, the counts, and at most a few items; never whole tables.
import { type StructuredToolInterface, tool } from '@langchain/core/tools';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { z } from 'zod';
import type { Connectors } from '../connectors';
import { customersVoiceSummary, metricsVoiceSummary, spokenDate, spokenMetric, spokenNumber, ticketsVoiceSummary } from '../insights';

export const TOOL_NAMES = [
  'search_customers',
  'get_customers',
  'get_customer_by_id',
  'get_support_tickets',
  'get_ticket_by_id',
  'get_analytics',
  'get_analytics_summary',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Items a tool lists at most: enough to name a few, short enough to speak. */
const MAX_ITEMS = 5;

export interface ToolDeps {
  connectors: Connectors;
  now?: () => Date;
}

/** The tenant comes from the run's config, so one compiled graph serves every tenant. */
function tenantOf(config: LangGraphRunnableConfig | undefined): string {
  const tenantId = config?.configurable?.tenantId;
  if (typeof tenantId !== 'string' || !tenantId) throw new Error('internal: the agent run has no tenantId in its config');
  return tenantId;
}

const limit = z.number().int().min(1).max(MAX_ITEMS).optional().describe(`How many items to list (1-${MAX_ITEMS}, default 3)`);
const days = z.number().int().min(1).max(3650).optional().describe('Only the last N days, today included');
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

export function createAgentTools({ connectors, now = () => new Date() }: ToolDeps): StructuredToolInterface[] {
  const { customers, tickets, metrics } = connectors;

  const customerItem = (c: { customerId: number; name: string; email: string; status: string; createdAt: Date }) => ({
    customer_id: c.customerId,
    name: c.name,
    email: c.email,
    status: c.status,
    created_at: isoDay(c.createdAt),
  });
  const ticketItem = (t: { ticketId: number; customerId: number; subject: string; priority: string; status: string; createdAt: Date }) => ({
    ticket_id: t.ticketId,
    customer_id: t.customerId,
    subject: t.subject,
    priority: t.priority,
    status: t.status,
    created_at: isoDay(t.createdAt),
  });

  const searchCustomers = tool(
    async ({ query, limit: n }, config) => {
      const tenantId = tenantOf(config);
      const filter = { search: query };
      const [summary, page] = await Promise.all([
        customers.summarize(tenantId, filter),
        customers.list(tenantId, { filter, order: 'NAME_ASC', page: { first: n ?? 3 } }),
      ]);
      return JSON.stringify({
        summary: customersVoiceSummary({ ...summary, filter }),
        total: summary.total,
        customers: page.edges.map((e) => customerItem(e.node)),
      });
    },
    {
      name: 'search_customers',
      description: 'Find customers whose name or email contains the text (case-insensitive).',
      schema: z.object({ query: z.string().min(1).max(200).describe('Part of a name or email'), limit }),
    },
  );

  const getCustomers = tool(
    async ({ status, limit: n }, config) => {
      const tenantId = tenantOf(config);
      const filter = { status: status ?? null };
      const [summary, page] = await Promise.all([
        customers.summarize(tenantId, filter),
        customers.list(tenantId, { filter, order: 'NEWEST_FIRST', page: { first: n ?? 3 } }),
      ]);
      return JSON.stringify({
        summary: customersVoiceSummary({ ...summary, filter }),
        total: summary.total,
        by_status: summary.byStatus,
        newest: page.edges.map((e) => customerItem(e.node)),
      });
    },
    {
      name: 'get_customers',
      description: 'Count customers (optionally only active or inactive ones) and list the newest few.',
      schema: z.object({ status: z.enum(['active', 'inactive']).optional(), limit }),
    },
  );

  const getCustomerById = tool(
    async ({ customer_id }, config) => {
      const tenantId = tenantOf(config);
      const [[customer], ticketSummary] = await Promise.all([
        customers.byIds(tenantId, [customer_id]),
        tickets.summarize(tenantId, { customerId: customer_id }),
      ]);
      if (!customer) return JSON.stringify({ summary: `I could not find customer ${customer_id}.`, found: false });
      const year = now().getUTCFullYear();
      const summary =
        `Customer ${customer.customerId} is ${customer.name}, ${customer.status}, a customer since ${spokenDate(isoDay(customer.createdAt), year)}. ` +
        `They have ${spokenNumber(ticketSummary.total)} support ${ticketSummary.total === 1 ? 'ticket' : 'tickets'}, ${spokenNumber(ticketSummary.byStatus.open)} open.`;
      return JSON.stringify({ summary, found: true, customer: customerItem(customer), tickets: { total: ticketSummary.total, open: ticketSummary.byStatus.open } });
    },
    {
      name: 'get_customer_by_id',
      description: 'One customer by numeric id, with how many support tickets they have.',
      schema: z.object({ customer_id: z.number().int().min(1).describe('The numeric customer id') }),
    },
  );

  const getSupportTickets = tool(
    async ({ status, priority, customer_id, limit: n }, config) => {
      const tenantId = tenantOf(config);
      const filter = { status: status ?? null, priority: priority ?? null, customerId: customer_id ?? null };
      const [summary, page] = await Promise.all([
        tickets.summarize(tenantId, filter),
        tickets.list(tenantId, { filter, order: 'PRIORITY', page: { first: n ?? 3 } }),
      ]);
      return JSON.stringify({
        summary: ticketsVoiceSummary({ ...summary, filter }),
        total: summary.total,
        by_status: summary.byStatus,
        by_priority: summary.byPriority,
        top: page.edges.map((e) => ticketItem(e.node)),
      });
    },
    {
      name: 'get_support_tickets',
      description: 'Count support tickets by status and priority (optionally for one customer) and list the most urgent few.',
      schema: z.object({
        status: z.enum(['open', 'closed']).optional(),
        priority: z.enum(['high', 'medium', 'low']).optional(),
        customer_id: z.number().int().min(1).optional(),
        limit,
      }),
    },
  );

  const getTicketById = tool(
    async ({ ticket_id }, config) => {
      const tenantId = tenantOf(config);
      const [ticket] = await tickets.byIds(tenantId, [ticket_id]);
      if (!ticket) return JSON.stringify({ summary: `I could not find ticket ${ticket_id}.`, found: false });
      const year = now().getUTCFullYear();
      const summary = `Ticket ${ticket.ticketId}, "${ticket.subject}", is ${ticket.status} with ${ticket.priority} priority, opened on ${spokenDate(isoDay(ticket.createdAt), year)} by customer ${ticket.customerId}.`;
      return JSON.stringify({ summary, found: true, ticket: ticketItem(ticket) });
    },
    {
      name: 'get_ticket_by_id',
      description: 'One support ticket by numeric id.',
      schema: z.object({ ticket_id: z.number().int().min(1).describe('The numeric ticket id') }),
    },
  );

  async function metricFilter(tenantId: string, metric: string | undefined, lastDays: number | undefined) {
    if (metric) {
      const names = await metrics.names(tenantId);
      const wanted = metric.toLowerCase().replace(/[\s-]+/g, '_');
      const match = names.find((n) => n.toLowerCase() === wanted);
      if (!match) {
        return { error: `There is no metric called ${spokenMetric(metric)}. Known metrics: ${names.map(spokenMetric).join(', ') || 'none'}.` };
      }
      return { filter: { metric: match, lastDays: lastDays ?? null } };
    }
    return { filter: { metric: null, lastDays: lastDays ?? null } };
  }

  const getAnalytics = tool(
    async ({ metric, days: lastDays, limit: n }, config) => {
      const tenantId = tenantOf(config);
      const resolved = await metricFilter(tenantId, metric, lastDays);
      if ('error' in resolved) return JSON.stringify({ summary: resolved.error });
      const [stats, page] = await Promise.all([
        metrics.summarize(tenantId, resolved.filter),
        metrics.list(tenantId, { filter: resolved.filter, order: 'NEWEST_FIRST', page: { first: n ?? 3 } }),
      ]);
      const year = now().getUTCFullYear();
      const points = page.edges.map((e) => e.node);
      const latest = points.length
        ? ` The latest values are ${points.map((p) => `${spokenNumber(p.value)} on ${spokenDate(p.date, year)}`).join(', ')}.`
        : '';
      return JSON.stringify({
        summary: `${metricsVoiceSummary({ ...stats, metric: resolved.filter.metric }, now())}${stats.dataPoints > 0 && !resolved.filter.metric ? latest : ''}`,
        data_points: stats.dataPoints,
        latest: points,
      });
    },
    {
      name: 'get_analytics',
      description: 'Daily values of an analytics metric (e.g. daily_active_users), newest first, with their summary.',
      schema: z.object({ metric: z.string().min(1).max(100).optional().describe('Metric name, e.g. daily_active_users'), days, limit }),
    },
  );

  const getAnalyticsSummary = tool(
    async ({ metric, days: lastDays }, config) => {
      const tenantId = tenantOf(config);
      const resolved = await metricFilter(tenantId, metric, lastDays);
      if ('error' in resolved) return JSON.stringify({ summary: resolved.error });
      const stats = await metrics.summarize(tenantId, resolved.filter);
      return JSON.stringify({
        summary: metricsVoiceSummary({ ...stats, metric: resolved.filter.metric }, now()),
        data_points: stats.dataPoints,
        average: stats.average,
        min: stats.min,
        max: stats.max,
        latest_value: stats.latestValue,
        first_date: stats.firstDate,
        latest_date: stats.latestDate,
      });
    },
    {
      name: 'get_analytics_summary',
      description: 'Average, minimum, maximum, latest value and trend of a metric over a period.',
      schema: z.object({ metric: z.string().min(1).max(100).optional().describe('Metric name, e.g. daily_active_users'), days }),
    },
  );

  return [searchCustomers, getCustomers, getCustomerById, getSupportTickets, getTicketById, getAnalytics, getAnalyticsSummary];
}

/** The spoken summary inside a tool's JSON result (or the text itself when it is not ours). */
export function toolResultSummary(content: unknown): string {
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  try {
    const parsed = JSON.parse(text) as { summary?: unknown };
    if (typeof parsed.summary === 'string') return parsed.summary;
  } catch {
    // not JSON: an error message from the tool node
  }
  return text.slice(0, 300);
}

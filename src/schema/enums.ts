// Enums of the public contract, mapped to the lower-case words stored in the database.
import { CUSTOMER_ORDERS } from '../connectors/customers';
import { TICKET_ORDERS } from '../connectors/tickets';
import { builder } from './builder';

export const CustomerStatusEnum = builder.enumType('CustomerStatus', {
  values: { ACTIVE: { value: 'active' as const }, INACTIVE: { value: 'inactive' as const } },
});

export const TicketStatusEnum = builder.enumType('TicketStatus', {
  values: { OPEN: { value: 'open' as const }, CLOSED: { value: 'closed' as const } },
});

export const TicketPriorityEnum = builder.enumType('TicketPriority', {
  values: { HIGH: { value: 'high' as const }, MEDIUM: { value: 'medium' as const }, LOW: { value: 'low' as const } },
});

export const DataTypeEnum = builder.enumType('DataType', {
  description: 'What kind of result a page is, so a voice or screen can choose how to present it.',
  values: ['TABULAR', 'TIME_SERIES', 'HIERARCHICAL', 'SUMMARY', 'EMPTY'] as const,
});

export const TrendEnum = builder.enumType('Trend', {
  description: "The newer half of a period's average against the older half's (±5% counts as FLAT).",
  values: ['UP', 'DOWN', 'FLAT'] as const,
});

export const CustomerOrderEnum = builder.enumType('CustomerOrder', { values: CUSTOMER_ORDERS });

export const TicketOrderEnum = builder.enumType('TicketOrder', {
  description: 'PRIORITY (default): HIGH, then MEDIUM, then LOW; newest first within a priority.',
  values: TICKET_ORDERS,
});

// The seed data format (customers.json, support_tickets.json, analytics.json): one zod schema per record kind.
import { z } from 'zod';

/** ISO 8601 date-time; without an offset it is read as UTC (the prototype wrote naive UTC times). */
const isoDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/, 'must be an ISO 8601 date-time')
  .transform((v) => new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v : `${v}Z`))
  .refine((d) => !Number.isNaN(d.getTime()), 'must be a real date-time');

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), 'must be a real date');

const id = z.number().int('must be a whole number').positive('must be positive').max(2_147_483_647, 'is too large');

export const customerRecord = z.object({
  customer_id: id,
  name: z.string().trim().min(1, 'must not be empty').max(500),
  email: z.string().trim().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address'),
  created_at: isoDateTime,
  status: z.enum(['active', 'inactive']),
});

export const ticketRecord = z.object({
  ticket_id: id,
  customer_id: id,
  subject: z.string().trim().min(1, 'must not be empty').max(1000),
  priority: z.enum(['high', 'medium', 'low']),
  created_at: isoDateTime,
  status: z.enum(['open', 'closed']),
});

export const metricRecord = z.object({
  metric: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be a metric name of letters, digits, _ . -'),
  date: isoDate,
  value: z.number().finite('must be a finite number'),
});

export type CustomerRecord = z.infer<typeof customerRecord>;
export type TicketRecord = z.infer<typeof ticketRecord>;
export type MetricRecord = z.infer<typeof metricRecord>;

export const SEED_FILES = {
  customers: 'customers.json',
  tickets: 'support_tickets.json',
  metrics: 'analytics.json',
} as const;

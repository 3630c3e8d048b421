// Ground truth for tests, computed from the seed files themselves (never from the code under test).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SeedCustomer { customer_id: number; name: string; email: string; created_at: string; status: 'active' | 'inactive' }
export interface SeedTicket { ticket_id: number; customer_id: number; subject: string; priority: 'high' | 'medium' | 'low'; created_at: string; status: 'open' | 'closed' }
export interface SeedMetric { metric: string; date: string; value: number }

export interface Dataset {
  customers: SeedCustomer[];
  tickets: SeedTicket[];
  metrics: SeedMetric[];
}

export function readDataset(dir: string): Dataset {
  const read = <T>(file: string): T[] => {
    try {
      return JSON.parse(readFileSync(join(dir, file), 'utf8')) as T[];
    } catch {
      return [];
    }
  };
  return { customers: read('customers.json'), tickets: read('support_tickets.json'), metrics: read('analytics.json') };
}

/** Seed timestamps without an offset are UTC. */
export const instant = (iso: string) => new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`).getTime();

export const priorityRank = { high: 1, medium: 2, low: 3 } as const;

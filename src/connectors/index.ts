// The set of connectors an app runs with, built over one database.
import type { Database } from '../db/client';
import { type CustomersConnector, createCustomersConnector } from './customers';
import { type MetricsConnector, createMetricsConnector } from './metrics';
import { type TicketsConnector, createTicketsConnector } from './tickets';

export interface Connectors {
  customers: CustomersConnector;
  tickets: TicketsConnector;
  metrics: MetricsConnector;
}

export function createConnectors(database: Database, options: { now?: () => Date } = {}): Connectors {
  return {
    customers: createCustomersConnector({ database }),
    tickets: createTicketsConnector({ database }),
    metrics: createMetricsConnector({ database, now: options.now }),
  };
}

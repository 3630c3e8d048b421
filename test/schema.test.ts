// The committed schema.graphql is the contract clients code against: it must equal the printed schema.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GraphQLEnumType, GraphQLObjectType } from 'graphql';
import { createSchema, printSchemaSDL } from '../src/schema';

describe('schema.graphql', () => {
  it('is committed and equals the schema the server runs (run `npm run schema:print` after changing types)', () => {
    const path = new URL('../schema.graphql', import.meta.url);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(printSchemaSDL());
  });

  it('keeps the contract of the data API', () => {
    const schema = createSchema();
    const query = schema.getQueryType()!.getFields();
    const signature = (name: string) =>
      `${query[name].args.map((a) => `${a.name}: ${a.type}`).sort().join(', ')} -> ${query[name].type}`;
    const paging = ['after: String', 'first: Int', 'page: Int'];
    expect(signature('customers')).toBe(`${[...paging, 'filter: CustomerFilter', 'orderBy: CustomerOrder'].sort().join(', ')} -> CustomerConnection!`);
    expect(signature('tickets')).toBe(`${[...paging, 'filter: TicketFilter', 'orderBy: TicketOrder'].sort().join(', ')} -> TicketConnection!`);
    expect(signature('metrics')).toBe(`${[...paging, 'filter: MetricFilter'].sort().join(', ')} -> MetricConnection!`);
    expect(signature('metricSummary')).toBe('from: Date, lastDays: Int, metric: String!, to: Date -> MetricSummary!');
    expect(signature('metricNames')).toBe(' -> [String!]!');
    expect(signature('customer')).toBe('customerId: Int! -> Customer');
    expect(signature('ticket')).toBe('ticketId: Int! -> Ticket');
    expect(signature('node')).toBe('id: ID! -> Node');
    for (const name of ['CustomerConnection', 'TicketConnection', 'MetricConnection']) {
      const fields = (schema.getType(name) as GraphQLObjectType).getFields();
      expect(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, String(f.type)]))).toMatchObject({
        totalCount: 'Int!',
        voiceSummary: 'String!',
        metadata: 'ResultMetadata!',
        pageInfo: 'PageInfo!',
      });
      expect(fields.edges).toBeDefined();
      expect(fields.nodes).toBeDefined();
    }
    const metadata = Object.keys((schema.getType('ResultMetadata') as GraphQLObjectType).getFields()).sort();
    expect(metadata).toEqual(['dataFreshness', 'dataType', 'freshAsOf', 'page', 'queryContext', 'returnedResults', 'totalPages', 'totalResults', 'voiceHint']);
    const enumValues = (name: string) => (schema.getType(name) as GraphQLEnumType).getValues().map((v) => v.name);
    expect(enumValues('CustomerStatus')).toEqual(['ACTIVE', 'INACTIVE']);
    expect(enumValues('TicketStatus')).toEqual(['OPEN', 'CLOSED']);
    expect(enumValues('TicketPriority')).toEqual(['HIGH', 'MEDIUM', 'LOW']);
    expect(enumValues('DataType')).toEqual(['TABULAR', 'TIME_SERIES', 'HIERARCHICAL', 'SUMMARY', 'EMPTY']);
    expect(enumValues('Trend')).toEqual(['UP', 'DOWN', 'FLAT']);
    expect(schema.getType('DateTime')).toBeDefined();
    expect(schema.getType('Date')).toBeDefined();
  });
});

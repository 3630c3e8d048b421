// urql 6 with Graphcache 9 against the real server, configured the way docs/clients.md recommends: relayPagination()
// on every connection field, the generated schema (examples/generated/introspection.ts), keys for the types that are values rather than entities,
// fetchExchange for queries (GET within the URL limit, as urql defaults) and mutations, subscriptionExchange over
// graphql-ws for voiceEvents, and the typed documents generated from examples/*.graphql.
// Truth comes from the seed files, never from the server: lists walked to the end and read back from the cache,
// metric summaries of different metrics and periods kept apart, BAD_USER_INPUT through every transport, and a text
// voice turn followed to TurnCompletedEvent, its turn and events normalised entities.
import { type CombinedError, Client, type TypedDocumentNode, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { type Cache, cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  AskVoiceDocument,
  FollowVoiceTurnDocument,
  type FollowVoiceTurnSubscription,
  MetricSummaryCardDocument,
  MetricsPageDocument,
  type TicketsPageQueryVariables,
  TicketsPageDocument,
  VoiceSessionHistoryDocument,
} from '../examples/generated/graphql';
import { introspection } from '../examples/generated/introspection';
import { databaseKind } from './helpers/database';
import { generatedDataDir } from './helpers/server';
import { type Dataset, expectedTicketIds, expectedPoints as expectedPointsOf, lastDaysWindow, readDataset } from './helpers/truth';
import { type VoiceServer, startVoiceServer } from './helpers/voice';

let vs: VoiceServer;
let data: Dataset;

beforeAll(async () => {
  // Anchored on yesterday (the generator's default) so "the last N days" always holds data.
  const dir = await generatedDataDir({ customers: 30, tickets: 150, days: 45, seed: 29 });
  data = readDataset(dir);
  vs = await startVoiceServer({ data: dir });
});
afterAll(() => vs?.stop());

// ---- The client, as docs/clients.md sets it up ----

interface Urql {
  client: Client;
  /** operationName of every HTTP request the client sent (GET or POST). */
  http: string[];
  /** Called with Graphcache's store while it writes a voiceSession answer (reads of the store need a write or read in progress). */
  inspect?: (cache: Cache) => void;
  dispose(): Promise<void>;
}

let clients: Urql[] = [];
let warnings: string[] = [];

function urql(): Urql {
  const http: string[] = [];
  const ws = createClient({ url: vs.server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  const cache = cacheExchange({
    // The generated schema: fragments on VoiceEvent match exactly (possibleTypes alone does not stop Graphcache from
    // writing every inline fragment of a subscription result and warning about the fields the event does not have).
    schema: introspection,
    // Types without an id are values inside their parent (a page, its metadata, timings), not entities.
    keys: Object.fromEntries(
      ['TicketConnection', 'CustomerConnection', 'MetricConnection', 'TicketEdge', 'CustomerEdge', 'MetricEdge', 'PageInfo', 'ResultMetadata', 'TurnTimings', 'VoiceCapabilities'].map(
        (type) => [type, () => null],
      ),
    ),
    resolvers: {
      Query: { tickets: relayPagination(), customers: relayPagination(), metrics: relayPagination() },
      Customer: { tickets: relayPagination() },
    },
    // Test instrumentation only: a look at the normalised store once a session has been written.
    updates: { Query: { voiceSession: (_result, _args, c) => created.inspect?.(c) } },
  });
  const client = new Client({
    url: vs.server.url,
    exchanges: [
      cache,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
    fetch: (input, init) => {
      const url = new URL(String(input));
      http.push(url.searchParams.get('operationName') ?? JSON.parse(String(init?.body)).operationName);
      return fetch(input, init);
    },
  });
  const created: Urql = {
    client,
    http,
    async dispose() {
      await ws.dispose();
    },
  };
  clients.push(created);
  return created;
}

beforeEach(() => {
  // Graphcache warns in development about entities it cannot key, heuristic fragment matching and missing fields:
  // any such warning fails the test.
  warnings = [];
  vi.spyOn(console, 'warn').mockImplementation((...args) => void warnings.push(args.map(String).join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...args) => void warnings.push(args.map(String).join(' ')));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(clients.map((c) => c.dispose()));
  clients = [];
  expect(warnings).toEqual([]);
});

// ---- Truth from the seed files ----

type TicketFilter = { status?: 'OPEN' | 'CLOSED'; priority?: 'HIGH' | 'MEDIUM' | 'LOW' };
const expectedTickets = (filter: TicketFilter, order: string) => expectedTicketIds(data, filter, order);
const expectedPoints = (metric: string, lastDays: number) => expectedPointsOf(data, metric, lastDays);

/** Page-number paging on the same field (an inline typed document: not one of the examples). */
const TICKETS_BY_PAGE_NUMBER: TypedDocumentNode<
  { tickets: { edges: { node: { id: string; ticketId: number } }[] } },
  { filter?: unknown; orderBy?: unknown; first?: number | null; page: number }
> = gql`
  query TicketsByPageNumber($filter: TicketFilter, $orderBy: TicketOrder, $first: Int, $page: Int) {
    tickets(filter: $filter, orderBy: $orderBy, first: $first, page: $page) {
      edges {
        node {
          id
          ticketId
        }
      }
    }
  }
`;

const codes = (error: CombinedError | undefined) => (error?.graphQLErrors ?? []).map((e) => [e.extensions?.code, e.message]);

describe(`urql + Graphcache (${databaseKind})`, () => {
  it('walks tickets to the end with relayPagination(); each filter and order is its own list, read back from the cache', async () => {
    const { client, http } = urql();
    const lists: { variables: TicketsPageQueryVariables; filter: TicketFilter; orderBy: string }[] = [
      { filter: { status: 'CLOSED' }, orderBy: 'TICKET_ID_ASC', variables: {} },
      { filter: { status: 'CLOSED' }, orderBy: 'OLDEST_FIRST', variables: {} },
      { filter: { priority: 'MEDIUM' }, orderBy: 'PRIORITY', variables: {} },
    ];
    for (const list of lists) list.variables = { filter: list.filter, orderBy: list.orderBy as never, first: 8 };

    for (const { variables, filter, orderBy } of lists) {
      const before = http.length;
      let after: string | null = null;
      let connection;
      do {
        const result = await client.query(TicketsPageDocument, { ...variables, after }).toPromise();
        expect(result.error).toBeUndefined();
        connection = result.data!.tickets;
        after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor! : null;
      } while (after);
      // relayPagination answers each page's query with every page fetched so far, merged in order.
      const truth = expectedTickets(filter, orderBy);
      expect(connection.edges.map((e) => e.node.ticketId), `${JSON.stringify(filter)} ${orderBy}`).toEqual(truth);
      expect(connection.totalCount).toBe(truth.length);
      expect(http.length - before).toBe(Math.ceil(truth.length / 8));
    }

    // A page by number has other arguments, so relayPagination keeps it out of the cursor list.
    const [first] = lists;
    const byNumber = await client.query(TICKETS_BY_PAGE_NUMBER, { ...first.variables, page: 2 }).toPromise();
    expect(byNumber.data!.tickets.edges.map((e) => e.node.ticketId)).toEqual(expectedTickets(first.filter, first.orderBy).slice(8, 16));

    const sent = http.length;
    for (const { variables, filter, orderBy } of lists) {
      const cached = await client.query(TicketsPageDocument, { ...variables, after: null }, { requestPolicy: 'cache-only' }).toPromise();
      expect(cached.data!.tickets.edges.map((e) => e.node.ticketId)).toEqual(expectedTickets(filter, orderBy));
    }
    expect(http.length).toBe(sent);
  });

  it('walks a metric’s points to the end; two metrics never mix', async () => {
    const { client } = urql();
    const metrics = [...new Set(data.metrics.map((p) => p.metric))].sort().slice(-2);
    for (const metric of metrics) {
      const variables = { filter: { metric, lastDays: 30 }, first: 8 };
      let after: string | null = null;
      let connection;
      do {
        const result = await client.query(MetricsPageDocument, { ...variables, after }).toPromise();
        expect(result.error).toBeUndefined();
        connection = result.data!.metrics;
        after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor! : null;
      } while (after);
      const truth = expectedPoints(metric, 30);
      expect(truth.length).toBeGreaterThan(8);
      expect(connection.edges.map((e) => ({ date: e.node.date, value: e.node.value }))).toEqual(truth);
      expect(connection.edges.every((e) => e.node.metric === metric)).toBe(true);
    }
  });

  it('keeps MetricSummary objects of different metrics and periods apart in the cache', async () => {
    const { client, http } = urql();
    const [a, b] = [...new Set(data.metrics.map((p) => p.metric))].sort().slice(-2);
    const [from, to] = lastDaysWindow(7);
    const asked: { metric: string; lastDays?: number; from?: string; to?: string }[] = [
      { metric: a, lastDays: 7 },
      { metric: a, lastDays: 30 },
      { metric: b, lastDays: 7 },
      { metric: b, lastDays: 30 },
      { metric: a, from, to }, // the same period as lastDays 7, named by dates: the same summary
    ];
    for (const variables of asked) expect((await client.query(MetricSummaryCardDocument, variables).toPromise()).error).toBeUndefined();

    const sent = http.length;
    for (const variables of asked) {
      const { data: cached } = await client.query(MetricSummaryCardDocument, variables, { requestPolicy: 'cache-only' }).toPromise();
      const lastDays = variables.lastDays ?? 7;
      const values = expectedPoints(variables.metric, lastDays).map((p) => p.value);
      const s = cached!.metricSummary;
      expect(s.metric).toBe(variables.metric);
      expect([s.from, s.to]).toEqual([...lastDaysWindow(lastDays)]);
      expect(s.dataPoints).toBe(values.length);
      expect(s.min).toBe(Math.min(...values));
      expect(s.max).toBe(Math.max(...values));
      expect(s.average).toBeCloseTo(values.reduce((sum, v) => sum + v, 0) / values.length, 6);
      expect(s.latestValue).toBe(values[0]);
    }
    expect(http.length).toBe(sent);
  });

  it('reports a bad argument as BAD_USER_INPUT through queries, mutations and the subscription exchange', async () => {
    const { client } = urql();
    const query = await client.query(TicketsPageDocument, { first: 0 }).toPromise();
    expect(codes(query.error)).toEqual([['BAD_USER_INPUT', expect.stringMatching(/^first: must be between 1 and 100/)]]);
    expect(query.data ?? null).toBeNull();

    const mutation = await client.mutation(AskVoiceDocument, { input: { text: 'hi', audio: 'AAAA' } }).toPromise();
    expect(codes(mutation.error)).toEqual([['BAD_USER_INPUT', expect.stringContaining('give exactly one of text or audio')]]);

    const subscription = await client.subscription(FollowVoiceTurnDocument, { sessionId: 'not a session!' }).toPromise();
    expect(codes(subscription.error)).toEqual([['BAD_USER_INPUT', expect.stringMatching(/^sessionId: /)]]);
  });

  it('follows a text voice turn to TurnCompletedEvent over graphql-ws; turn and events are normalised entities', async () => {
    const urqlClient = urql();
    const { client, http } = urqlClient;
    const started = await client.mutation(AskVoiceDocument, { input: { text: 'How many closed tickets do we have?' } }).toPromise();
    expect(started.error).toBeUndefined();
    const turn = started.data!.voiceTurn;
    expect(turn).toMatchObject({ status: 'RUNNING', inputKind: 'TEXT' });

    type Event = FollowVoiceTurnSubscription['voiceEvents'];
    const events = await new Promise<Event[]>((resolve, reject) => {
      const got: Event[] = [];
      const { unsubscribe } = client.subscription(FollowVoiceTurnDocument, { sessionId: turn.sessionId, turnId: turn.id }).subscribe((r) => {
        if (r.error) return reject(r.error);
        const event = r.data!.voiceEvents;
        got.push(event);
        if (event.__typename === 'TurnCompletedEvent' || event.__typename === 'TurnFailedEvent') {
          unsubscribe();
          resolve(got);
        }
      });
    });
    expect(http).not.toContain('FollowVoiceTurn'); // the subscription went over the WebSocket

    const closed = data.tickets.filter((t) => t.status === 'closed').length;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ __typename: 'TranscriptEvent', text: 'How many closed tickets do we have?', turnId: turn.id });
    const last = events[events.length - 1];
    expect(last.__typename).toBe('TurnCompletedEvent');
    if (last.__typename !== 'TurnCompletedEvent') throw new Error('unreachable');
    expect(last.responseText).toContain(`${closed} closed support ticket`);

    // The stored session updates the VoiceTurn the mutation returned (RUNNING → COMPLETED); each event is its own
    // entity ("<Type>:<turnId>:<seq>"), all still there and distinct once the turn is over.
    const keys = new Set(events.map((e) => `${e.__typename}:${e.id}`));
    expect(keys.size).toBe(events.length);
    const seen: { turn?: unknown; events?: unknown[]; keys?: (string | null)[] } = {};
    urqlClient.inspect = (cache) => {
      seen.keys = events.map((e) => cache.keyOfEntity({ __typename: e.__typename, id: e.id }));
      seen.events = events.map((e) => cache.readFragment(gql`fragment StoredEvent on VoiceEvent { id seq turnId }`, { __typename: e.__typename, id: e.id }));
      seen.turn = cache.readFragment(gql`fragment StoredTurn on VoiceTurn { id status }`, { __typename: 'VoiceTurn', id: turn.id });
    };
    const history = await client.query(VoiceSessionHistoryDocument, { sessionId: turn.sessionId }).toPromise();
    expect(history.data!.voiceSession!.turns).toEqual([
      expect.objectContaining({ id: turn.id, status: 'COMPLETED', transcript: 'How many closed tickets do we have?', responseText: last.responseText }),
    ]);
    expect(seen.keys).toEqual([...keys]);
    expect(seen.events).toEqual(events.map((e) => ({ __typename: e.__typename, id: `${turn.id}:${e.seq}`, seq: e.seq, turnId: turn.id })));
    expect(seen.turn).toEqual({ __typename: 'VoiceTurn', id: turn.id, status: 'COMPLETED' });
  });
});

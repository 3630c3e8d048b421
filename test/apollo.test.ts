// Apollo Client 4 against the real server, configured the way docs/clients.md recommends: InMemoryCache with the
// generated possibleTypes and relayStylePagination keyed by filter and orderBy, HttpLink for queries and mutations,
// GraphQLWsLink (graphql-ws) for subscriptions, and the typed documents generated from examples/*.graphql.
// Truth comes from the seed files, never from the server: lists walked to the end with fetchMore, metric summaries of
// different metrics and periods kept apart in the normalised cache, BAD_USER_INPUT through every transport, and a
// text voice turn followed to TurnCompletedEvent, its objects normalised across mutation, subscription and query.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, type ObservableQuery, type TypedDocumentNode, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { relayStylePagination } from '@apollo/client/utilities';
import { OperationTypeNode } from 'graphql';
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
import { possibleTypes } from '../examples/generated/possible-types';
import { databaseKind } from './helpers/database';
import { generatedDataDir } from './helpers/server';
import { type Dataset, expectedTicketIds, expectedPoints as expectedPointsOf, lastDaysWindow, readDataset } from './helpers/truth';
import { type VoiceServer, startVoiceServer } from './helpers/voice';

let vs: VoiceServer;
let data: Dataset;

beforeAll(async () => {
  // Anchored on yesterday (the generator's default) so "the last N days" always holds data.
  const dir = await generatedDataDir({ customers: 30, tickets: 150, days: 45, seed: 23 });
  data = readDataset(dir);
  vs = await startVoiceServer({ data: dir });
});
afterAll(() => vs?.stop());

// ---- The client, as docs/clients.md sets it up ----

interface Apollo {
  client: ApolloClient;
  cache: InMemoryCache;
  /** operationName of every HTTP request the client sent. */
  http: string[];
  dispose(): Promise<void>;
}

let clients: Apollo[] = [];
let warnings: string[] = [];

function apollo(): Apollo {
  const http: string[] = [];
  const ws = createClient({ url: vs.server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  const httpLink = new HttpLink({
    uri: vs.server.url,
    fetch: (input, init) => {
      http.push(JSON.parse(String(init?.body)).operationName);
      return fetch(input, init);
    },
  });
  const link = ApolloLink.split((op) => op.operationType === OperationTypeNode.SUBSCRIPTION, new GraphQLWsLink(ws), httpLink);
  const cache = new InMemoryCache({
    possibleTypes,
    typePolicies: {
      Query: {
        fields: {
          // Cursor pages of the same list (same filter and order) merge into one; a different filter or order is another
          // list, and so is a page asked for by number (`page`), which must not replace the cursor list.
          tickets: relayStylePagination(['filter', 'orderBy', 'page']),
          customers: relayStylePagination(['filter', 'orderBy', 'page']),
          metrics: relayStylePagination(['filter', 'page']),
        },
      },
      Customer: { fields: { tickets: relayStylePagination(['filter', 'orderBy', 'page']) } },
    },
  });
  const client = new ApolloClient({ link, cache });
  const created: Apollo = {
    client,
    cache,
    http,
    async dispose() {
      client.stop();
      await ws.dispose();
    },
  };
  clients.push(created);
  return created;
}

beforeEach(() => {
  // Apollo warns in development when it would lose or wrongly merge cache data ("Cache data may be lost…", missing
  // fields, heuristic fragment matching): any such warning fails the test.
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

// ---- Helpers ----

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

/**
 * Watches a query as a screen would: `until` resolves with the first emitted result that passes the check. After
 * fetchMore resolves, the merged list reaches watchers through the cache a moment later (Apollo 4), so read it from
 * the next emission (or from the cache), not from getCurrentResult() at once.
 */
function watch<T>(query: ObservableQuery<T, any>) {
  type Result = ObservableQuery.Result<T>;
  type Complete = ObservableQuery.Result<T, 'complete'>;
  let latest: Result | undefined;
  let failure: unknown;
  const waiting: { check: (r: Result) => boolean; resolve: (r: Result) => void; reject: (e: unknown) => void }[] = [];
  const subscription = query.subscribe({
    next: (r) => {
      latest = r as Result;
      for (const w of [...waiting]) {
        if (latest.error) w.reject(latest.error);
        else if (!w.check(latest)) continue;
        else w.resolve(latest);
        waiting.splice(waiting.indexOf(w), 1);
      }
    },
    error: (e) => {
      failure = e;
      for (const w of waiting.splice(0)) w.reject(e);
    },
  });
  return {
    /** The first result (the latest, or one still to come) that is complete and passes `check`. */
    until(check: (r: Complete) => boolean = () => true): Promise<Complete> {
      const ok = (r: Result): r is Complete => !r.loading && r.dataState === 'complete' && check(r as Complete);
      if (failure) return Promise.reject(failure);
      if (latest && !latest.error && ok(latest)) return Promise.resolve(latest);
      return new Promise((resolve, reject) => waiting.push({ check: ok, resolve: resolve as (r: Result) => void, reject }));
    },
    stop: () => subscription.unsubscribe(),
  };
}

describe(`Apollo Client 4 (${databaseKind})`, () => {
  it('walks tickets to the end with fetchMore and relayStylePagination(["filter", "orderBy", "page"]), each list kept apart', async () => {
    const { client, cache, http } = apollo();
    const lists: { variables: TicketsPageQueryVariables; filter: TicketFilter; orderBy: string }[] = [
      { filter: { status: 'OPEN' }, orderBy: 'TICKET_ID_DESC', variables: {} },
      // Same filter, another order: a different list under keyArgs, not pages of the first.
      { filter: { status: 'OPEN' }, orderBy: 'NEWEST_FIRST', variables: {} },
      { filter: { priority: 'HIGH' }, orderBy: 'PRIORITY', variables: {} },
    ];
    for (const list of lists) list.variables = { filter: list.filter, orderBy: list.orderBy as never, first: 7 };

    for (const { variables, filter, orderBy } of lists) {
      const before = http.length;
      const query = client.watchQuery({ query: TicketsPageDocument, variables });
      const watched = watch(query);
      let connection = (await watched.until()).data.tickets;
      while (connection.pageInfo.hasNextPage) {
        const more = await query.fetchMore({ variables: { after: connection.pageInfo.endCursor } });
        const page = more.data!.tickets.edges;
        expect(page.length).toBeLessThanOrEqual(7); // fetchMore resolves with the fetched page only …
        const merged = connection.edges.length + page.length; // … and the watcher then sees the pages merged
        connection = (await watched.until((r) => r.data.tickets.edges.length === merged)).data.tickets;
      }
      watched.stop();
      const truth = expectedTickets(filter, orderBy);
      expect(connection.edges.map((e) => e.node.ticketId), `${JSON.stringify(filter)} ${orderBy}`).toEqual(truth);
      expect(connection.totalCount).toBe(truth.length);
      // One request per page, nothing fetched twice.
      expect(http.length - before).toBe(Math.ceil(truth.length / 7));
    }

    // A page by number is its own cache entry (keyArgs include page): it does not replace the cursor list.
    const [first] = lists;
    const byNumber = await client.query({ query: TICKETS_BY_PAGE_NUMBER, variables: { ...first.variables, page: 2 } });
    expect(byNumber.data!.tickets.edges.map((e) => e.node.ticketId)).toEqual(expectedTickets(first.filter, first.orderBy).slice(7, 14));

    // Every list is still whole in the cache, and reading it again (cache-first) sends nothing.
    const sent = http.length;
    for (const { variables, filter, orderBy } of lists) {
      const again = await client.query({ query: TicketsPageDocument, variables });
      expect(again.data!.tickets.edges.map((e) => e.node.ticketId)).toEqual(expectedTickets(filter, orderBy));
    }
    expect(http.length).toBe(sent);

    // Tickets and customers are normalised: one entity per ticket however many lists hold it.
    const seen = new Set(lists.flatMap(({ filter, orderBy }) => expectedTickets(filter, orderBy)));
    const stored = Object.keys(cache.extract()).filter((key) => key.startsWith('Ticket:'));
    expect(stored).toHaveLength(seen.size);
  });

  it('walks a metric’s points to the end; points are normalised by id and two metrics never mix', async () => {
    const { client, cache } = apollo();
    const metrics = [...new Set(data.metrics.map((p) => p.metric))].sort().slice(0, 2);
    expect(metrics).toHaveLength(2);
    for (const metric of metrics) {
      const variables = { filter: { metric, lastDays: 30 }, first: 9 };
      const query = client.watchQuery({ query: MetricsPageDocument, variables });
      const watched = watch(query);
      let connection = (await watched.until()).data.metrics;
      while (connection.pageInfo.hasNextPage) {
        const more = await query.fetchMore({ variables: { after: connection.pageInfo.endCursor } });
        const merged = connection.edges.length + more.data!.metrics.edges.length;
        connection = (await watched.until((r) => r.data.metrics.edges.length === merged)).data.metrics;
      }
      watched.stop();
      const truth = expectedPoints(metric, 30);
      expect(truth.length).toBeGreaterThan(9);
      expect(connection.edges.map((e) => ({ date: e.node.date, value: e.node.value }))).toEqual(truth);
      expect(connection.edges.every((e) => e.node.metric === metric)).toBe(true);
    }
    const points = Object.keys(cache.extract()).filter((key) => key.startsWith('MetricPoint:'));
    expect(points).toHaveLength(expectedPoints(metrics[0], 30).length + expectedPoints(metrics[1], 30).length);
  });

  it('keeps MetricSummary objects of different metrics and periods apart in the cache', async () => {
    const { client, cache, http } = apollo();
    const [a, b] = [...new Set(data.metrics.map((p) => p.metric))].sort();
    const asked = [
      { metric: a, lastDays: 7 },
      { metric: a, lastDays: 30 },
      { metric: b, lastDays: 7 },
      { metric: b, lastDays: 30 },
    ];
    for (const variables of asked) await client.query({ query: MetricSummaryCardDocument, variables });
    // The same period named by dates is the same summary: one entity, and its answer agrees.
    const [from, to] = lastDaysWindow(7);
    await client.query({ query: MetricSummaryCardDocument, variables: { metric: a, from, to } });
    expect(Object.keys(cache.extract()).filter((key) => key.startsWith('MetricSummary:'))).toHaveLength(4);

    const sent = http.length;
    for (const variables of [...asked, { metric: a, from, to }]) {
      const { data: cached } = await client.query({ query: MetricSummaryCardDocument, variables, fetchPolicy: 'cache-only' });
      const lastDays = 'lastDays' in variables ? variables.lastDays : 7;
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

  it('reports a bad argument as BAD_USER_INPUT through HTTP queries, mutations and the WebSocket link, and caches nothing for it', async () => {
    const { client } = apollo();
    const codeOf = (error: unknown) => {
      expect(CombinedGraphQLErrors.is(error), String(error)).toBe(true);
      return (error as CombinedGraphQLErrors).errors.map((e) => [e.extensions?.code, e.message]);
    };

    const query = await client.query({ query: TicketsPageDocument, variables: { first: 0 } }).catch((e: unknown) => e);
    expect(codeOf(query)).toEqual([['BAD_USER_INPUT', expect.stringMatching(/^first: must be between 1 and 100/)]]);
    const all = await client.query({ query: TicketsPageDocument, variables: { first: 101 }, errorPolicy: 'all' });
    expect(codeOf(all.error)).toEqual([['BAD_USER_INPUT', expect.stringMatching(/^first: /)]]);
    const cached = await client.query({ query: TicketsPageDocument, variables: { first: 0 }, fetchPolicy: 'cache-only' });
    expect(cached.data).toBeUndefined();

    const mutation = await client.mutate({ mutation: AskVoiceDocument, variables: { input: { text: 'hi', audio: 'AAAA' } } }).catch((e: unknown) => e);
    expect(codeOf(mutation)).toEqual([['BAD_USER_INPUT', expect.stringContaining('give exactly one of text or audio')]]);

    const results = await new Promise<{ error?: unknown }[]>((resolve, reject) => {
      const got: { error?: unknown }[] = [];
      client
        .subscribe({ query: FollowVoiceTurnDocument, variables: { sessionId: 'not a session!' } })
        .subscribe({ next: (r) => got.push(r), error: reject, complete: () => resolve(got) });
    });
    expect(results).toHaveLength(1);
    expect(codeOf(results[0].error)).toEqual([['BAD_USER_INPUT', expect.stringMatching(/^sessionId: /)]]);
  });

  it('follows a text voice turn to TurnCompletedEvent over GraphQLWsLink; turn and events are normalised entities', async () => {
    const { client, cache, http } = apollo();
    const started = await client.mutate({ mutation: AskVoiceDocument, variables: { input: { text: 'How many open tickets do we have?' } } });
    const turn = started.data!.voiceTurn;
    expect(turn).toMatchObject({ __typename: 'VoiceTurn', status: 'RUNNING', inputKind: 'TEXT' });

    type Event = FollowVoiceTurnSubscription['voiceEvents'];
    const events = await new Promise<Event[]>((resolve, reject) => {
      const got: Event[] = [];
      client.subscribe({ query: FollowVoiceTurnDocument, variables: { sessionId: turn.sessionId, turnId: turn.id } }).subscribe({
        next: (r) => (r.error ? reject(r.error) : got.push(r.data!.voiceEvents)),
        error: reject,
        complete: () => resolve(got),
      });
    });
    expect(http).not.toContain('FollowVoiceTurn'); // the subscription went over the WebSocket

    const open = data.tickets.filter((t) => t.status === 'open').length;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ __typename: 'TranscriptEvent', text: 'How many open tickets do we have?', turnId: turn.id });
    const last = events[events.length - 1];
    expect(last.__typename).toBe('TurnCompletedEvent');
    if (last.__typename !== 'TurnCompletedEvent') throw new Error('unreachable');
    expect(last.responseText).toContain(`${open} open support ticket`);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // Each event is its own entity in the cache (id "<turnId>:<seq>"), read back through the interface fragment.
    for (const event of events) {
      const stored = cache.readFragment({
        id: cache.identify({ __typename: event.__typename, id: event.id }),
        fragment: gql`
          fragment StoredEvent on VoiceEvent {
            seq
            turnId
          }
        `,
      });
      expect(stored).toEqual({ __typename: event.__typename, seq: event.seq, turnId: turn.id });
    }

    // The stored session updates the very VoiceTurn object the mutation returned (RUNNING → COMPLETED).
    const history = await client.query({ query: VoiceSessionHistoryDocument, variables: { sessionId: turn.sessionId } });
    expect(history.data!.voiceSession!.turns).toEqual([
      expect.objectContaining({ id: turn.id, status: 'COMPLETED', transcript: 'How many open tickets do we have?', responseText: last.responseText }),
    ]);
    const updated = cache.readFragment({
      id: cache.identify({ __typename: 'VoiceTurn', id: turn.id }),
      fragment: gql`
        fragment TurnStatus on VoiceTurn {
          status
        }
      `,
    });
    expect(updated).toEqual({ __typename: 'VoiceTurn', status: 'COMPLETED' });
  });
});

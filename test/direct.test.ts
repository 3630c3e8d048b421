// Direct execution (src/server/direct.ts) answers exactly as yoga does: the same requests go to a server on the direct
// path and to one kept on yoga's own path (a plugin with an HTTP hook turns direct execution off), and status,
// content type, CORS headers and body must be equal; requests yoga alone can answer must reach yoga.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppOptions } from '../src/server/app';
import { regularMediaType } from '../src/server/direct';
import type { VoiceService } from '../src/voice/service';
import { createVoiceProviders } from '../src/voice/providers';
import { createVoiceService } from '../src/voice/service';
import { databaseKind } from './helpers/database';
import { type TestServer, type TestServerOptions, startTestServer } from './helpers/server';
import { voiceConfig } from './helpers/voice';

let direct: TestServer;
let viaYoga: TestServer;
const voices: VoiceService[] = [];

/** A voice service too, so that mutations and subscriptions reach real resolvers. */
const withVoice: TestServerOptions['services'] = async (base, database) => {
  const voice = await createVoiceService({ database, connectors: base.connectors, log: base.log, providers: createVoiceProviders(voiceConfig(), base), databaseUrl: database.url });
  voices.push(voice);
  return { voice };
};

beforeAll(async () => {
  direct = await startTestServer({ data: { customers: 10, tickets: 30, days: 10, seed: 3, anchorDate: '2026-11-24' }, services: withVoice, http: { corsOrigins: ['https://app.example'] } });
  expect(direct.app.direct).not.toBeNull();
  const httpHook: NonNullable<AppOptions['plugins']>[number] = { onRequest: () => undefined };
  viaYoga = await startTestServer({ database: direct.database, plugins: [httpHook], services: withVoice, http: { corsOrigins: ['https://app.example'] } });
});
afterAll(async () => {
  for (const voice of voices) await voice.close();
  await viaYoga?.stop();
  await direct?.stop();
});

interface Sent {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  path?: string;
}

async function send(server: TestServer, { method = 'POST', headers = {}, body, path = '' }: Sent) {
  const response = await fetch(server.url + path, { method, headers, body });
  const text = await response.text();
  const header = (name: string) => response.headers.get(name);
  return {
    status: response.status,
    contentType: header('content-type'),
    cors: ['access-control-allow-origin', 'access-control-allow-credentials', 'vary'].map((n) => `${n}=${header(n)}`),
    body: text,
  };
}

/** Sends the request to both servers and expects one answer; says whether the direct server used yoga for it. */
async function same(request: Sent) {
  const before = direct.app.direct!.stats();
  const a = await send(direct, request);
  const after = direct.app.direct!.stats();
  // Requests that direct.accepts refuses (GET) never reach it: they count as neither.
  const usedYoga = after.direct === before.direct;
  const b = await send(viaYoga, request);
  expect(viaYoga.app.direct).toBeNull();
  expect(a).toEqual(b);
  return { answer: a, usedYoga };
}

const json = (accept?: string, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'x-request-id': 'req-direct-1',
  ...(accept === undefined ? {} : { accept }),
  ...extra,
});
const body = (query: string, more: Record<string, unknown> = {}) => JSON.stringify({ query, ...more });
const TICKETS = '{ tickets(filter: {status: OPEN}, first: 3) { totalCount voiceSummary nodes { ticketId subject createdAt } } }';

describe(`direct execution answers exactly as yoga (${databaseKind})`, () => {
  it('answers an ordinary query directly, for every Accept a GraphQL client sends', async () => {
    for (const accept of [
      'application/json',
      'application/graphql-response+json',
      'application/graphql-response+json, application/json;q=0.9',
      '*/*',
      undefined,
    ]) {
      const { answer, usedYoga } = await same({ headers: json(accept), body: body(TICKETS) });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).data.tickets.nodes).toHaveLength(3);
      expect(usedYoga).toBe(false);
    }
  });

  it('answers variables, an operation name among several, and a charset in the content type directly', async () => {
    const query = 'query A($n: Int) { tickets(first: $n) { totalCount } } query B { metricNames }';
    const { usedYoga } = await same({
      headers: json('application/json', { 'content-type': 'application/json; charset=utf-8' }),
      body: body(query, { variables: { n: 2 }, operationName: 'A' }),
    });
    expect(usedYoga).toBe(false);
  });

  it('gives argument errors (zod), unknown fields, syntax errors, bad variables and unknown operations the same status and body', async () => {
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      for (const request of [
        body('{ tickets(first: 0) { totalCount } }'),
        body('{ tickets { nope } }'),
        body('{ tickets { totalCount '),
        body('query($n: Int) { tickets(first: $n) { totalCount } }', { variables: { n: 'ten' } }),
        body('query A { metricNames }', { operationName: 'B' }),
        body('{ ticket(ticketId: 99999) { subject } }'),
      ]) {
        const { answer } = await same({ headers: json(accept), body: request });
        expect(JSON.parse(answer.body).errors ?? JSON.parse(answer.body).data).toBeTruthy();
      }
    }
  });

  it('leaves malformed bodies, batches, unexpected parameters and GET to yoga, with the same answers', async () => {
    for (const request of [
      { headers: json('application/json'), body: '{"query": ' },
      { headers: json('application/json'), body: JSON.stringify([{ query: '{ metricNames }' }]) },
      { headers: json('application/json'), body: JSON.stringify({ query: '{ metricNames }', extra: 1 }) },
      { headers: json('application/json'), body: JSON.stringify({ query: 42 }) },
      { method: 'GET', headers: { accept: 'application/json' }, path: '?query=%7BmetricNames%7D' },
    ]) {
      const { answer, usedYoga } = await same(request);
      expect(usedYoga).toBe(true);
      expect(answer.status).toBeGreaterThanOrEqual(200);
    }
  });

  it('adds the same CORS headers for a browser Origin, directly', async () => {
    const { answer, usedYoga } = await same({ headers: json('application/json', { origin: 'https://app.example' }), body: body('{ metricNames }') });
    expect(answer.cors).toContain('access-control-allow-origin=https://app.example');
    expect(usedYoga).toBe(false);
  });

  it('answers a rejected mutation directly, and leaves a subscription over plain HTTP to yoga', async () => {
    const mutation = await same({ headers: json('application/json'), body: body('mutation { voiceTurn(input: {text: ""}) { id } }') });
    expect(JSON.parse(mutation.answer.body).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(mutation.usedYoga).toBe(false);
    const sessionId = '6f9619ff-8b86-4d11-b42d-00c04fc964ff';
    const subscription = await same({ headers: json('application/json'), body: body(`subscription { voiceEvents(sessionId: "${sessionId}") { __typename } }`) });
    expect(subscription.answer.status).toBe(406);
    expect(subscription.usedYoga).toBe(true);
  });

  it('picks the media type by yoga’s rules', () => {
    expect(regularMediaType(undefined)).toBe('application/json');
    expect(regularMediaType('application/graphql-response+json, application/json;q=0.9')).toBe('application/graphql-response+json');
    expect(regularMediaType('application/json, application/graphql-response+json')).toBe('application/json');
    expect(regularMediaType('text/event-stream')).toBeNull();
    expect(regularMediaType('multipart/mixed')).toBeNull();
    expect(regularMediaType('application/json; charset=latin1')).toBeNull();
    // Remembered per header (a bounded table): the same answers after many distinct headers, and for a long one.
    for (let i = 0; i < 600; i++) expect(regularMediaType(`text/plain;q=0.${i}, application/json`)).toBe('application/json');
    expect(regularMediaType('text/event-stream')).toBeNull();
    expect(regularMediaType(`${'text/plain, '.repeat(40)}application/graphql-response+json`)).toBe('application/graphql-response+json');
  });
});

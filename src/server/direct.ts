// Direct execution of ordinary GraphQL requests (POST /graphql, one JSON operation, a JSON answer): yoga's own
// parameter checks, envelop (schema, plugins, parse/validate caches, context, error masking) and result processor,
// without the Fetch-API emulation of Node's request and response around them, which costs most of a small query's
// CPU. Anything else (batches, GET, GraphiQL, SSE or multipart answers, CORS preflight, subscriptions, large bodies)
// is answered by yoga itself, from the same buffered body.
import type { IncomingMessage } from 'node:http';
import { type Plugin, type YogaServerInstance, isAsyncIterable, processRegularResult } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/context';
import { type CorsPolicy, createCorsPolicy } from './cors';

/** The answers a regular (non-streaming) result can take, as yoga's result processor names them. */
const REGULAR_MEDIA_TYPES = ['application/graphql-response+json', 'application/json'] as const;
type RegularMediaType = (typeof REGULAR_MEDIA_TYPES)[number];

/** Hooks that act inside envelop only; a plugin with any other hook (HTTP request or response) keeps yoga's path. */
const ENVELOP_HOOKS = new Set(['onPluginInit', 'onEnveloped', 'onContextBuilding', 'onParse', 'onValidate', 'onExecute', 'onSubscribe', 'onSchemaChange']);

export function hasOnlyEnvelopHooks(plugin: Plugin<GraphQLContext>): boolean {
  return Object.keys(plugin).every((hook) => ENVELOP_HOOKS.has(hook));
}

/**
 * The media type yoga answers with for a non-streaming result, or null when yoga would pick a streaming processor or
 * none (then yoga answers). Same rules as yoga's useResultProcessors: utf-8 only, request types taken in reverse,
 * processors in the order SSE, multipart, regular, and the last match wins.
 */
export function regularMediaType(accept: string | null | undefined): RegularMediaType | null {
  const key = accept || '*/*';
  if (key.length > 256) return chooseMediaType(key);
  let chosen = chosenMediaTypes.get(key);
  if (chosen === undefined) {
    chosen = chooseMediaType(key);
    // Clients send a handful of distinct Accept headers; one inventing new ones only keeps emptying this.
    if (chosenMediaTypes.size >= 256) chosenMediaTypes.clear();
    chosenMediaTypes.set(key, chosen);
  }
  return chosen;
}

/** The choice made for each Accept header seen (every request asks twice: accepts() and fetch()). */
const chosenMediaTypes = new Map<string, RegularMediaType | null>();

function chooseMediaType(accept: string): RegularMediaType | null {
  const requested = accept
    .replace(/\s/g, '')
    .toLowerCase()
    .split(',')
    .filter((entry) => (entry.split(';').slice(1).find((p) => p.includes('charset=')) ?? 'charset=utf-8') === 'charset=utf-8')
    .map((entry) => entry.split(';')[0])
    .reverse();
  let chosen: RegularMediaType | null = null;
  for (const asked of requested) {
    const [pre, suf] = asked.split('/');
    for (const offered of REGULAR_MEDIA_TYPES) {
      const [offeredPre, offeredSuf] = offered.split('/');
      if ((pre === '*' || pre === offeredPre) && (suf === '*' || suf === offeredSuf)) chosen = offered;
    }
  }
  return chosen;
}

/** The parts of yoga's server object this module uses (all public fields of YogaServer). */
type Yoga = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

export interface DirectExecution {
  /** Whether a Node request may take the direct path (checked before its body is read). */
  accepts(req: IncomingMessage): boolean;
  /** yoga.fetch's signature: answers directly when it can, through yoga.fetch otherwise. */
  fetch(url: string, init: { method: string; headers: Record<string, string>; body: string }, serverContext: Record<string | symbol, unknown>): Promise<Response>;
  /** Requests answered directly, and those handed to yoga.fetch after all. */
  stats(): { direct: number; viaYoga: number };
}

export interface DirectExecutionOptions {
  yoga: Yoga;
  /** Path of the GraphQL endpoint. */
  endpoint: string;
  /** Larger bodies (voice audio) go to yoga, which streams them and enforces its own limit. */
  maxBodyBytes?: number;
  /** The CORS policy yoga was given (its `cors` option), so that both paths answer an Origin alike. */
  cors?: CorsPolicy;
}

export function createDirectExecution({ yoga, endpoint, maxBodyBytes = 1024 * 1024, cors = createCorsPolicy() }: DirectExecutionOptions): DirectExecution {
  const server = yoga as unknown as {
    getResultForParams(input: { params: unknown; request: Request }, context: Record<string | symbol, unknown>): Promise<unknown>;
    fetchAPI: typeof globalThis;
  };

  const counters = { direct: 0, viaYoga: 0 };

  function accepts(req: IncomingMessage): boolean {
    const length = Number(req.headers['content-length']);
    return (
      req.method === 'POST' &&
      req.url === endpoint &&
      (req.headers['content-type'] ?? '').startsWith('application/json') &&
      Number.isInteger(length) &&
      length <= maxBodyBytes &&
      regularMediaType(req.headers.accept) !== null
    );
  }

  async function fetch(url: string, init: { method: string; headers: Record<string, string>; body: string }, serverContext: Record<string | symbol, unknown>): Promise<Response> {
    const viaYoga = () => {
      counters.viaYoga++;
      return yoga.fetch(url, init, serverContext);
    };
    const mediaType = regularMediaType(init.headers.accept);
    if (init.body.length > maxBodyBytes) return viaYoga();
    let params: unknown;
    try {
      params = JSON.parse(init.body);
    } catch {
      return viaYoga();
    }
    // Batches and non-objects: yoga's parser decides (and words the error).
    if (init.method !== 'POST' || mediaType === null || params === null || typeof params !== 'object' || Array.isArray(params)) return viaYoga();
    const request = new server.fetchAPI.Request(url, init);
    let result: unknown;
    try {
      // A copy: yoga adds request and params to the context object it is given, and a fallback starts afresh.
      result = await server.getResultForParams({ params, request }, { ...serverContext });
    } catch {
      // Thrown before execution (yoga's parameter checks): yoga answers with its own status and wording.
      return viaYoga();
    }
    if (isAsyncIterable(result)) {
      // A subscription over plain HTTP: nothing ran yet but the source; yoga decides between SSE and 406.
      await (result as AsyncIterableIterator<unknown>).return?.();
      return viaYoga();
    }
    const response = await processRegularResult(result as Parameters<typeof processRegularResult>[0], server.fetchAPI, mediaType);
    counters.direct++;
    const corsHeaders = cors.headers(request);
    if (corsHeaders) for (const [name, value] of Object.entries(corsHeaders)) response.headers.set(name, value);
    return response;
  }

  return { accepts, fetch, stats: () => ({ ...counters }) };
}

// Response cache for GraphQL queries: keyed by tenant + request body + Accept, valid only while the tenant's
// data_changes versions are unchanged (checked on every request), served before yoga runs at all.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sql } from 'drizzle-orm';
import { type DefinitionNode, Kind, type OperationDefinitionNode, type SelectionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../db/client';
import type { Identity } from '../schema/context';
import { bufferedHeaders, readBody, requestUrl, sendResponse } from './buffered';

/** The root Query fields whose answers depend only on tenant data (data_changes) and the date. */
const CACHEABLE_ROOT_FIELDS = new Set([
  'customers',
  'customer',
  'tickets',
  'ticket',
  'metrics',
  'metricSummary',
  'metricNames',
  'node',
  'nodes',
  '__typename',
]);

interface Entry {
  versions: string;
  day: string;
  expires: number;
  status: number;
  /** The answer's headers as yoga sent them (content type, CORS for this Origin). */
  headers: Record<string, string>;
  body: string;
}

/** What the plugin tells the HTTP layer about one request that went through yoga. */
interface Marker {
  cacheable: boolean;
}

export interface ResponseCacheOptions {
  database: Database;
  /**
   * Upper bound on an entry's age even when no data changed: answers also say how old the data is in words
   * ("updated 5 minutes ago") and `lastDays` counts from today, so they drift with the clock.
   */
  ttlMs?: number;
  maxEntries?: number;
  /** Largest request body considered for caching (bytes). */
  maxBodyBytes?: number;
  now?: () => number;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  stores: number;
  entries: number;
}

export interface ResponseCache {
  /** Yoga plugin: marks a request cacheable when it is a query over data fields that ended without errors. */
  plugin: Plugin;
  /**
   * Serves an authenticated POST /graphql JSON request from the entries of the caller's tenant and roles, or through
   * yoga (storing the answer when the plugin marked it cacheable). Other requests go to `next` untouched.
   */
  handle(req: IncomingMessage, res: ServerResponse, identity: Identity, yoga: YogaLike, next: () => unknown, maxRequestBodyBytes?: number): Promise<void>;
  stats(): ResponseCacheStats;
  clear(): void;
}

/** What answers a buffered request: yoga.fetch, or direct execution (which falls back to it). */
export interface YogaLike {
  fetch(input: string, init: { method: string; headers: Record<string, string>; body: string }, serverContext: Record<string | symbol, unknown>): Response | Promise<Response>;
}

const MARKER = Symbol.for('udc.responseCache');

/**
 * Strict coalescing: a caller joins a read that starts after it arrived, never one already in flight, so a
 * request sent after a write commits always sees that write's version. Concurrent requests share one query.
 */
function freshReader<T>(read: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | null = null;
  let queued: Promise<T> | null = null;
  const start = () => {
    const p = read().finally(() => {
      if (inflight === p) inflight = null;
    });
    inflight = p;
    return p;
  };
  return () => {
    if (!inflight) return start();
    queued ??= inflight
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return start();
      });
    return queued;
  };
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const { database } = options;
  const ttlMs = options.ttlMs ?? 1000;
  const maxEntries = options.maxEntries ?? 5000;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const now = options.now ?? Date.now;
  // Map keeps insertion order: deleting and re-inserting on a hit makes the first key the least recently used.
  const entries = new Map<string, Entry>();
  const counters = { hits: 0, misses: 0, stores: 0 };
  const readers = new Map<string, () => Promise<string>>();

  const versionsStatement = database.statement<{ v: string | null }>(
    () => sql`SELECT string_agg(source || ':' || version, ',' ORDER BY source) AS v FROM data_changes WHERE tenant_id = ${sql.placeholder('tenantId')}`,
  );
  const versionsOf = (tenantId: string) => {
    let reader = readers.get(tenantId);
    if (!reader) {
      reader = freshReader(async () => {
        const rows = await versionsStatement({ tenantId });
        return rows[0]?.v ?? '';
      });
      readers.set(tenantId, reader);
    }
    return reader();
  };

  const plugin: Plugin = {
    onExecute({ args }) {
      const marker = (args.contextValue as unknown as Record<symbol, Marker | undefined>)[MARKER];
      if (!marker) return;
      const operation = args.document.definitions.find(
        (d: DefinitionNode): d is OperationDefinitionNode =>
          d.kind === Kind.OPERATION_DEFINITION && (args.operationName == null || d.name?.value === args.operationName),
      );
      marker.cacheable =
        operation?.operation === 'query' &&
        operation.selectionSet.selections.every((s: SelectionNode) => s.kind === Kind.FIELD && CACHEABLE_ROOT_FIELDS.has(s.name.value));
      if (!marker.cacheable) return;
      return {
        onExecuteDone({ result }) {
          // Errors (bad input, failures) are answered fresh every time.
          if (Symbol.asyncIterator in result || result.errors?.length) marker.cacheable = false;
        },
      };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse, identity: Identity, yoga: YogaLike, next: () => unknown, maxRequestBodyBytes?: number) {
    const { tenantId } = identity;
    // yoga's context factory finds the caller's identity through the Node request.
    const serverContext = { req, res };
    const accept = req.headers.accept ?? '';
    const contentType = req.headers['content-type'] ?? '';
    if (
      req.method !== 'POST' ||
      req.url?.split('?')[0] !== '/graphql' ||
      !contentType.startsWith('application/json') ||
      // Streaming answers (SSE, multipart) are never cached.
      /event-stream|multipart/.test(accept)
    ) {
      await next();
      return;
    }
    // Past the app's limit the body is refused while it streams in: RequestBodyTooLargeError, answered 413 by the app.
    const body = await readBody(req, maxRequestBodyBytes);
    const headers = bufferedHeaders(req.headers);
    const url = requestUrl(req);
    if (body.length > maxBodyBytes) {
      // Too large to be worth keeping as a key: answered without the cache.
      await sendResponse(res, await yoga.fetch(url, { method: 'POST', headers, body }, serverContext));
      return;
    }
    // Origin is in the key because yoga's CORS headers answer it.
    // Answers depend on the tenant and, through the roles check, on the roles; never on anything else of the caller.
    const key = `${tenantId}\n${[...identity.roles].sort().join(' ')}\n${accept}\n${req.headers.origin ?? ''}\n${body}`;
    // Without the versions nothing can be proven fresh: answer through yoga, keep nothing (it reports its own errors).
    const versions = await versionsOf(tenantId).catch(() => null);
    if (versions === null) {
      await sendResponse(res, await yoga.fetch(url, { method: 'POST', headers, body }, serverContext));
      return;
    }
    const day = new Date(now()).toISOString().slice(0, 10);
    const hit = entries.get(key);
    if (hit && hit.versions === versions && hit.day === day && hit.expires > now()) {
      counters.hits++;
      entries.delete(key);
      entries.set(key, hit);
      res.writeHead(hit.status, { ...hit.headers, 'content-length': Buffer.byteLength(hit.body) });
      res.end(hit.body);
      return;
    }
    if (hit) entries.delete(key);
    counters.misses++;
    const marker: Marker = { cacheable: false };
    const response = await yoga.fetch(url, { method: 'POST', headers, body }, { ...serverContext, [MARKER]: marker });
    const text = await response.text();
    const responseHeaders = Object.fromEntries(response.headers);
    // `versions` was read before the answer was computed: if data changed meanwhile, the next request's read
    // differs and the entry is never served.
    if (marker.cacheable && response.status === 200) {
      const { 'content-length': _length, ...headersToKeep } = responseHeaders;
      entries.set(key, { versions, day, expires: now() + ttlMs, status: response.status, headers: headersToKeep, body: text });
      counters.stores++;
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    }
    res.writeHead(response.status, responseHeaders);
    res.end(text);
  }

  return {
    plugin,
    handle,
    stats: () => ({ ...counters, entries: entries.size }),
    clear: () => entries.clear(),
  };
}

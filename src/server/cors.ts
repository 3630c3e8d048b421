// CORS from an allow-list of origins: one policy for yoga's `cors` option and for the answers written without yoga
// (direct execution, a refused request body), so every path answers an Origin the same way.
import { type CORSOptions, getCORSHeadersByRequestAndOptions } from '@whatwg-node/server';

export interface CorsPolicy {
  /** yoga's `cors` option. */
  options(request: Pick<Request, 'headers'>): CORSOptions;
  /** The CORS headers of an answer to `request`; null for none (no Origin, or an origin that is not allowed). */
  headers(request: Pick<Request, 'headers'>): Record<string, string> | null;
}

/** Answer headers a browser page may read: the request id (to quote in a bug report) and when to retry. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after'];

/**
 * `origins` listed: such an Origin is answered with itself and credentials; "*" lets any other origin read answers
 * without credentials; every other origin gets no CORS headers (so a browser shows it nothing). None listed: no
 * cross-origin access at all.
 */
export function createCorsPolicy(origins: readonly string[] = []): CorsPolicy {
  const allowed = new Set(origins);
  const anyOrigin = allowed.delete('*');
  const options = (request: Pick<Request, 'headers'>): CORSOptions => {
    const origin = request.headers.get('origin');
    if (origin && allowed.has(origin)) return { origin, credentials: true, exposedHeaders: EXPOSED_HEADERS };
    if (anyOrigin) return { origin: '*', credentials: false, exposedHeaders: EXPOSED_HEADERS };
    return false;
  };
  return { options, headers: (request) => getCORSHeadersByRequestAndOptions(request as Request, options(request)) };
}

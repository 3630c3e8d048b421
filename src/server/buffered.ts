// Node request and response ↔ whole bodies: the small steps shared by the paths that read a GraphQL request's body
// before answering it (the response cache and direct execution).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** Hop-by-hop and length headers describe the original stream, not a buffered body handed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'te', 'trailer']);

/** A request body larger than the limit: answered 413 by sendBodyTooLarge (yoga's own wording and code). */
export class RequestBodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super('Request body too large');
  }
}

/**
 * The whole body as text, refused with RequestBodyTooLargeError as soon as it passes `maxBytes`: at once when the
 * content-length says so, otherwise at the chunk that passes it (chunked bodies), keeping nothing of it. The rest of
 * the body is read and dropped, never kept; the 413 answer closes the connection.
 */
export function readBody(req: IncomingMessage, maxBytes = Number.POSITIVE_INFINITY): Promise<string> {
  return new Promise((resolve, reject) => {
    const refuse = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      // Flowing with no 'data' listener: what still arrives is dropped as it comes.
      req.resume();
      reject(new RequestBodyTooLargeError(maxBytes));
    };
    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks = [];
        refuse();
      } else chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('error', reject);
    if (Number(req.headers['content-length']) > maxBytes) return refuse();
    req.on('data', onData);
    req.on('end', onEnd);
  });
}

/** Answers a RequestBodyTooLargeError as yoga does (413, code REQUEST_ENTITY_TOO_LARGE), and closes the connection. */
export function sendBodyTooLarge(res: ServerResponse, headers: Record<string, string> | null = null): void {
  const body = JSON.stringify({ errors: [{ message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } }] });
  res.writeHead(413, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/** The request's end-to-end headers as a plain record (repeated headers joined with ", "). */
export function bufferedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function requestUrl(req: IncomingMessage): string {
  return `http://${req.headers.host ?? 'localhost'}${req.url}`;
}

/** Writes a Fetch Response to a Node response in one piece. */
export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const text = await response.text();
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(text);
}

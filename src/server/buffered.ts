// Node request and response ↔ whole bodies: the small steps shared by the paths that read a GraphQL request's body
// before answering it (the response cache and direct execution).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** Hop-by-hop and length headers describe the original stream, not a buffered body handed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'te', 'trailer']);

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
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

// The browser voice page: GET /voice and its files under /voice/ (src/web/voice, plain HTML, CSS and ES modules with
// no build step; dist/web/voice in the built image, copied there by scripts/build.ts). Read once at start-up, served
// from memory with an ETag, a Content-Security-Policy that allows nothing but this origin (no CDN: it works offline)
// and the microphone for this origin only. The page executes nothing on the server by itself, so it is answered
// before authentication, like /health; everything it asks goes over graphql-ws with the user's token.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger';

/** Where the page's files are: src/web/voice beside src/server (dist/web/voice beside dist/server once built). */
export const VOICE_PAGE_DIR = fileURLToPath(new URL('../web/voice/', import.meta.url));

export const VOICE_PAGE_PATH = '/voice';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Answers the request when it is for the page or one of its files (returns true); false leaves it to the others. */
export type VoicePage = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface VoicePageOptions {
  log: Logger;
  /** The page's folder (tests); VOICE_PAGE_DIR by default. */
  dir?: string;
}

/** A Host header we may repeat in the policy (a name or an address, and a port); anything else leaves 'self' alone. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function securityHeaders(req: IncomingMessage): Record<string, string> {
  const host = req.headers.host;
  // 'self' covers same-origin WebSockets in current browsers; the explicit ws:/wss: origin is for older Safari.
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self'${sockets}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'permissions-policy': 'microphone=(self), camera=(), geolocation=()',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}

function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return files;
}

export function createVoicePage({ log, dir = VOICE_PAGE_DIR }: VoicePageOptions): VoicePage {
  let files: Map<string, StaticFile>;
  try {
    files = loadFiles(dir);
    if (!files.has('index.html')) throw new Error('index.html is missing');
  } catch (error) {
    log.error('voice page: its files cannot be read; /voice answers 404', { dir, error: (error as Error).message });
    files = new Map();
  }

  return (req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    if (path !== VOICE_PAGE_PATH && !path.startsWith(`${VOICE_PAGE_PATH}/`)) return false;
    if (path === `${VOICE_PAGE_PATH}/`) {
      // The page's relative links (voice/app.js, graphql) resolve from /voice, not /voice/.
      res.writeHead(308, { location: VOICE_PAGE_PATH }).end();
      return true;
    }
    const name = path === VOICE_PAGE_PATH ? 'index.html' : path.slice(VOICE_PAGE_PATH.length + 1);
    // Only the files read at start-up, by exact name: nothing else on disk can be reached.
    const file = files.get(name);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end('Not found\n');
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return true;
    }
    const headers = { ...securityHeaders(req), etag: file.etag };
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    res.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': String(file.body.length) });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}

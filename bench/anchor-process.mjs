// What both PostGraphile anchors (postgraphile-server.ts for v4, postgraphile5/server.mjs for v5) share as bench
// processes: their command line, the token gate in front of PostGraphile, and the protocol server-process.ts speaks
// (a warm-up request, "READY <url>" on stdout, "stats" over IPC, a clean stop on SIGTERM). Plain JavaScript so that
// v5's process, which runs on another Node without tsx, can load it too.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';

/**
 * --url (required), --auth gate|jwt|none and --auth-secret. gate: the bearer JWT is verified (HS256, jsonwebtoken,
 * synchronous) in front of PostGraphile, which then runs each query without a transaction (its fastest configuration
 * with a verified token); jwt: PostGraphile verifies it itself and sets its claims per request; none: no token.
 */
export function anchorOptions() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      auth: { type: 'string', default: 'none' },
      'auth-secret': { type: 'string' },
    },
  });
  if (!values.url) throw new Error('--url is required');
  const mode = values.auth;
  if (!['gate', 'jwt', 'none'].includes(mode)) throw new Error('--auth: gate, jwt or none');
  if (mode !== 'none' && !values['auth-secret']) throw new Error(`--auth ${mode} needs --auth-secret`);
  return { url: values.url, mode, secret: values['auth-secret'] ?? '' };
}

const BEARER = /^Bearer +(\S+)$/i;

/** True when the request carries a valid token; otherwise answers 401 itself and returns false. */
function passesGate(req, res, secret) {
  const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
  if (token) {
    try {
      jwt.verify(token, secret, { algorithms: ['HS256'] });
      return true;
    } catch {
      // answered below
    }
  }
  res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
  res.end('{"errors":[{"message":"Authentication required"}]}');
  return false;
}

/**
 * Serves `handle` (PostGraphile's node handler) on 127.0.0.1 behind the gate, asks it once (PostGraphile may build its
 * schema on the first request), then says READY; `release` closes what the anchor opened (its pool) on SIGTERM.
 */
export async function serveAnchor({ name, options, handle, release }) {
  const { mode, secret } = options;
  const server = createServer((req, res) => {
    if (mode === 'gate' && !passesGate(req, res, secret)) return;
    handle(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/graphql`;
  const token = jwt.sign({ sub: 'bench' }, secret, { algorithm: 'HS256' });
  const warm = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(mode === 'none' ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  if (!warm.ok) throw new Error(`${name} did not start: ${warm.status} ${await warm.text()}`);
  process.stdout.write(`READY ${url}\n`);

  process.on('message', (message) => {
    if (message === 'stats') process.send?.({ cache: null, rss: process.memoryUsage().rss, cpuMicros: process.cpuUsage().user + process.cpuUsage().system });
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    setTimeout(async () => {
      await release();
      process.exit(0);
    }, 300);
  });
}

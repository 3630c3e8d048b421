// The token check in front of both PostGraphile anchors (postgraphile-server.ts for v4, postgraphile5/server.mjs for
// v5) in their default `gate` mode: the bearer JWT verified (HS256, jsonwebtoken, synchronous) before PostGraphile
// sees the request, which then runs its query without a transaction. Plain JavaScript so that v5's process, which runs
// on another Node without tsx, can load it too.
import jwt from 'jsonwebtoken';

const BEARER = /^Bearer +(\S+)$/i;

/** True when the request carries a valid token; otherwise answers 401 itself and returns false. */
export function passesGate(req, res, secret) {
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

/** A token the gate accepts, for the warm-up request an anchor sends itself before it says READY. */
export function gateToken(secret) {
  return jwt.sign({ sub: 'bench' }, secret, { algorithm: 'HS256' });
}

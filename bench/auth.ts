// Authentication as a deployment runs it: the query benchmark's server verifies an HS256 bearer token on every request
// (run.ts passes --auth-secret; `npm run bench -- --no-auth` measures without, for comparison).
import { SignJWT } from 'jose';

export const BENCH_AUTH_SECRET = 'udc-bench-secret-not-for-production-0123456789';

/** The Authorization header every load request sends: the default tenant, both roles, valid for a day. */
export const BENCH_AUTHORIZATION = `Bearer ${await new SignJWT({ tenant: 'default', roles: ['viewer', 'voice'] })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('bench')
  .setExpirationTime('24h')
  .sign(new TextEncoder().encode(BENCH_AUTH_SECRET))}`;

// Voice-turn limits through the API: voiceTurn refused with RATE_LIMITED and a retry hint once a subject's bucket is
// empty, the limit shared by two server instances through the real Redis, another subject unaffected.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../src/server/auth';
import { type TurnLimiter, createTurnLimiter } from '../src/voice/turn-limits';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { REDIS_URL, redisSkipNote, redisUp } from './helpers/redis';
import { type VoiceServer, VOICE_TURN, startVoiceServer } from './helpers/voice';

const SECRET = 'limits-test-secret-of-at-least-32-characters';

const tokenFor = (sub: string) =>
  new SignJWT({ tenant: 'acme', roles: ['voice'] }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

describe.skipIf(!redisUp)(`voice turn limits through the API, shared by two instances on Redis${redisSkipNote}`, () => {
  let database: TestDatabase;
  const limiters: TurnLimiter[] = [];
  const servers: VoiceServer[] = [];
  const prefix = `udc-test-limits-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      // Two subjects' turns a minute each, refilled once a minute: the test never waits for a refill.
      const limiter = await createTurnLimiter({ redisUrl: REDIS_URL, prefix, perTenant: { capacity: 100, refillPerMinute: 100 }, perSubject: { capacity: 2, refillPerMinute: 1 }, maxRunningPerTenant: 0 });
      limiters.push(limiter);
      servers.push(await startVoiceServer({ database, extra: { turnLimits: limiter }, server: { auth: createAuthenticator({ secret: SECRET, defaultTenant: 'default' }) } }));
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const l of limiters) await l.close();
    await database?.close();
  });

  it('refuses a subject\'s third turn on either instance with RATE_LIMITED and a retry hint; another subject still runs', async () => {
    const [a, b] = servers;
    const alice = { authorization: `Bearer ${await tokenFor('alice')}` };
    const bob = { authorization: `Bearer ${await tokenFor('bob')}` };
    const ask = (server: VoiceServer, headers: Record<string, string>) => server.server.query(VOICE_TURN, { input: { text: 'How many customers do we have?' } }, headers);

    expect((await ask(a, alice)).data?.voiceTurn.status).toBe('RUNNING');
    expect((await ask(b, alice)).data?.voiceTurn.status).toBe('RUNNING');
    const refused = await ask(a, alice);
    expect(refused.data?.voiceTurn ?? null).toBeNull();
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'SUBJECT_RATE' });
    expect(refused.errors?.[0].extensions?.retryAfterMs).toBeGreaterThan(0);
    expect(refused.errors?.[0].message).toMatch(/Too many voice turns: .*retry in \d+ s/);
    expect((await ask(b, alice)).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect((await ask(b, bob)).data?.voiceTurn.status).toBe('RUNNING');
    for (const s of servers) await s.voice.idle();
  });
});

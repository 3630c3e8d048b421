// Two server processes (the real entry point, src/main.ts) on one PostgreSQL and one Redis, behind a round-robin TCP
// load balancer the test controls, as a deployment runs them: everything a client sees works whichever instance its
// request or socket lands on. Voice runs on Groq's API, played by a fake Groq server the test starts (the real SDKs
// in the servers talk to it), so the test can hold a turn half-way and act on it from the other instance.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { type Client, createClient } from 'graphql-ws';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createTestDatabase, usingPostgres } from './helpers/database';
import { type FakeGroq, startFakeGroq } from './helpers/fake-groq';
import { type MainProcess, exitOf, repoRoot, startMain } from './helpers/main';
import { generatedDataDir } from './helpers/server';
import { readDataset } from './helpers/truth';
import { REDIS_URL, redisUp } from './helpers/redis';
import { type TcpProxy, startTcpProxy } from './helpers/tcp-proxy';
import { type Collected, VOICE_TURN, type VoiceEventData, subscribeEvents } from './helpers/voice';

const A = 0;
const B = 1;
const secret = randomBytes(32).toString('hex');
// A tenant of this run alone: the rate-limit buckets in the shared Redis start empty.
const tenant = `instances-${randomBytes(4).toString('hex')}`;
const PER_SUBJECT_PER_MINUTE = 5;

const tokenFor = (sub: string) =>
  new SignJWT({ tenant, roles: ['viewer', 'voice'] }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));

const newSessionId = () => `s-${randomBytes(6).toString('hex')}`;

describe.skipIf(!usingPostgres || !redisUp)(
  'two server processes behind a round-robin load balancer (needs DATABASE_URL and Redis: the embedded database is one process)',
  () => {
    let database: TestDatabase;
    let groq: FakeGroq;
    let instances: MainProcess[] = [];
    let balancer: TcpProxy;
    const sockets: Client[] = [];

    beforeAll(async () => {
      database = await createTestDatabase();
      groq = await startFakeGroq();
      const env = {
        DATABASE_URL: database.url!,
        REDIS_URL,
        AUTH_JWT_SECRET: secret,
        VOICE_PROVIDER: 'groq',
        GROQ_API_KEY: 'gsk_test_not_a_real_key',
        GROQ_BASE_URL: groq.baseURL,
        GROQ_MAX_RETRIES: '0',
        VOICE_TURNS_PER_MINUTE_PER_SUBJECT: String(PER_SUBJECT_PER_MINUTE),
        LOG_LEVEL: 'info',
      };
      instances = [startMain(env), startMain(env)];
      const urls = await Promise.all(instances.map((i) => i.url));
      balancer = await startTcpProxy(urls.map((u) => ({ host: '127.0.0.1', port: Number(new URL(u).port) })));
    }, 180_000);

    afterAll(async () => {
      await Promise.all(sockets.map((s) => s.dispose()));
      for (const instance of instances) {
        if (instance.child.exitCode === null) instance.child.kill('SIGTERM');
      }
      await Promise.all(instances.map((i) => exitOf(i.child)));
      await balancer?.close();
      await groq?.close();
      await database?.close();
    });

    /** A GraphQL POST through the balancer that lands on `instance` (a connection of its own, closed after). */
    async function post(instance: number, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
      balancer.sendNextTo(instance);
      const body = JSON.stringify({ query, variables });
      return new Promise((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: balancer.port, path: '/graphql', method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve(JSON.parse(text)));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    }

    /** A graphql-ws socket through the balancer, connected to `instance`. */
    async function socket(instance: number, token: string): Promise<Client> {
      balancer.sendNextTo(instance);
      let connected!: () => void;
      const ready = new Promise<void>((resolve) => (connected = resolve));
      const client = createClient({
        url: `ws://127.0.0.1:${balancer.port}/graphql`,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${token}` },
        on: { connected: () => connected() },
      });
      sockets.push(client);
      await ready;
      return client;
    }

    const startTurn = async (instance: number, token: string, input: Record<string, unknown>) => {
      const r = await post(instance, token, VOICE_TURN, { input });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      return r.data.voiceTurn as { id: string; sessionId: string; status: string };
    };

    /** Which instance ran a turn: the one whose log says the turn ended. */
    const ranOn = (turnId: string) => instances.findIndex((i) => new RegExp(`"turnId":"${turnId}"[^\\n]*voice: turn ended|voice: turn ended[^\\n]*"turnId":"${turnId}"`).test(i.output()));

    const seqs = (events: VoiceEventData[]) => events.map((e) => e.seq);
    const ofTurn = (events: VoiceEventData[], turnId: string) => events.filter((e) => e.turnId === turnId);

    it('serves a turn started through A to a follower on B from its first event, live, and to a late follower', async () => {
      const token = await tokenFor('follow');
      const onB = await socket(B, token);
      groq.hold('speech');
      let turn: Awaited<ReturnType<typeof startTurn>>;
      let live: Collected;
      try {
        turn = await startTurn(A, token, { text: 'How many open tickets do we have?' });
        live = subscribeEvents(onB, turn.sessionId, turn.id);
        await live.until((e) => e.__typename === 'ResponseTextEvent');
      } finally {
        groq.release('speech');
      }
      await live.done;
      expect(live.errors).toEqual([]);
      expect(seqs(live.events)).toEqual(live.events.map((_, i) => i + 1));
      expect(live.events.at(-1)!.__typename).toBe('TurnCompletedEvent');
      expect(live.events.some((e) => e.__typename === 'AudioChunkEvent')).toBe(true);
      await expect.poll(() => ranOn(turn.id)).toBe(A);

      const late = subscribeEvents(await socket(B, token), turn.sessionId, turn.id);
      await late.done;
      expect(late.events).toEqual(live.events);
    });

    it('shows turns run on A to a session-wide subscriber on B, live and after the fact, in order', async () => {
      const token = await tokenFor('session');
      const sessionId = newSessionId();
      const watching = subscribeEvents(await socket(B, token), sessionId);
      const first = await startTurn(A, token, { sessionId, text: 'How many open tickets do we have?' });
      await watching.until((e) => e.turnId === first.id && e.__typename === 'TurnCompletedEvent');
      const second = await startTurn(A, token, { sessionId, text: 'And how many customers are active?' });
      await watching.until((e) => e.turnId === second.id && e.__typename === 'TurnCompletedEvent');
      // The instance logs "turn ended" after the last event went out: the line may arrive a moment after the event.
      await expect.poll(() => ranOn(first.id)).toBe(A);
      await expect.poll(() => ranOn(second.id)).toBe(A);
      expect(watching.errors).toEqual([]);
      expect([...new Set(watching.events.map((e) => e.turnId))]).toEqual([first.id, second.id]);
      for (const id of [first.id, second.id]) expect(seqs(ofTurn(watching.events, id))).toEqual(ofTurn(watching.events, id).map((_, i) => i + 1));
      watching.unsubscribe();

      // A session reader that arrives later, on B, gets the kept turns of A from their first events.
      const late = subscribeEvents(await socket(B, token), sessionId);
      await late.until((e) => e.turnId === second.id && e.__typename === 'TurnCompletedEvent');
      expect(late.events).toEqual(watching.events);
      late.unsubscribe();
    });

    it('interrupts the session’s turn running on A when the session continues on B (barge-in across instances)', async () => {
      const token = await tokenFor('barge');
      const sessionId = newSessionId();
      const watching = subscribeEvents(await socket(A, token), sessionId);
      groq.hold('speech');
      let first: Awaited<ReturnType<typeof startTurn>>;
      let second: Awaited<ReturnType<typeof startTurn>>;
      try {
        first = await startTurn(A, token, { sessionId, text: 'How many open tickets do we have?' });
        await watching.until((e) => e.turnId === first.id && e.__typename === 'ResponseTextEvent');
        second = await startTurn(B, token, { sessionId, text: 'Never mind: how many customers are active?' });
        const failed = await watching.until((e) => e.turnId === first.id && e.__typename === 'TurnFailedEvent');
        expect(failed).toMatchObject({ code: 'INTERRUPTED', retryable: true });
      } finally {
        groq.release('speech');
      }
      await watching.until((e) => e.turnId === second.id && e.__typename === 'TurnCompletedEvent');
      watching.unsubscribe();
      await expect.poll(() => ranOn(second.id)).toBe(B);
      const stored = await post(A, token, `query($s: ID!) { voiceSession(sessionId: $s) { turns { id status errorCode } } }`, { s: sessionId });
      expect(stored.data.voiceSession.turns).toEqual([
        { id: first.id, status: 'INTERRUPTED', errorCode: 'INTERRUPTED' },
        { id: second.id, status: 'COMPLETED', errorCode: null },
      ]);
    });

    it('cancels a turn running on A through B (cancelVoiceTurn), and says false once it has ended', async () => {
      const token = await tokenFor('cancel');
      groq.hold('speech');
      let turn: Awaited<ReturnType<typeof startTurn>>;
      let following: Collected;
      try {
        turn = await startTurn(A, token, { text: 'How many open tickets do we have?' });
        following = subscribeEvents(await socket(B, token), turn.sessionId, turn.id);
        await following.until((e) => e.__typename === 'ResponseTextEvent');
        const cancelled = await post(B, token, `mutation($s: ID!, $t: ID!) { cancelVoiceTurn(sessionId: $s, turnId: $t) }`, { s: turn.sessionId, t: turn.id });
        expect(cancelled).toEqual({ data: { cancelVoiceTurn: true } });
      } finally {
        groq.release('speech');
      }
      await following.done;
      expect(following.events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'CANCELLED', retryable: false });
      const again = await post(A, token, `mutation($s: ID!, $t: ID!) { cancelVoiceTurn(sessionId: $s, turnId: $t) }`, { s: turn.sessionId, t: turn.id });
      expect(again).toEqual({ data: { cancelVoiceTurn: false } });
      // Another subject of the same tenant cannot see the turn, let alone cancel it.
      const stranger = await post(B, await tokenFor('stranger'), `mutation($s: ID!, $t: ID!) { cancelVoiceTurn(sessionId: $s, turnId: $t) }`, { s: turn.sessionId, t: turn.id });
      expect(stranger.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    });

    it('holds one voice rate limit across both instances', async () => {
      const token = await tokenFor('limited');
      const answers = [];
      for (let i = 0; i <= PER_SUBJECT_PER_MINUTE; i++) answers.push(await post(i % 2, token, VOICE_TURN, { input: { text: 'How many open tickets do we have?' } }));
      const refused = answers.filter((r) => r.errors?.[0].extensions.code === 'RATE_LIMITED');
      expect(answers.slice(0, PER_SUBJECT_PER_MINUTE).every((r) => r.data?.voiceTurn?.status === 'RUNNING')).toBe(true);
      expect(refused).toHaveLength(1);
      expect(refused[0].errors[0].extensions).toMatchObject({ reason: 'SUBJECT_RATE' });
    });

    it('keeps both instances’ response caches correct when the data changes under them (an import)', async () => {
      const token = await tokenFor('reader');
      const counts = '{ tickets(first: 3) { totalCount } customers { totalCount } }';
      const empty = { data: { tickets: { totalCount: 0 }, customers: { totalCount: 0 } } };
      // Asked twice on each instance: the second answer of each comes from its cache.
      for (const instance of [A, B, A, B]) expect(await post(instance, token, counts)).toEqual(empty);
      const dir = await generatedDataDir({ customers: 7, tickets: 23, days: 5, seed: 4, anchorDate: '2026-11-24' });
      const data = readDataset(dir);
      execFileSync(process.execPath, ['--import', 'tsx', 'src/db/import-cli.ts', dir, '--tenant', tenant], {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: database.url!, LOG_LEVEL: 'warn' },
        stdio: 'pipe',
      });
      const now = { data: { tickets: { totalCount: data.tickets.length }, customers: { totalCount: data.customers.length } } };
      for (const instance of [A, B, A, B]) expect(await post(instance, token, counts)).toEqual(now);
    });
  },
);

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from './helpers/server';

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ data: { customers: 30, tickets: 120, days: 30, seed: 7, anchorDate: '2026-11-24' } });
  });
  afterAll(() => server?.stop());
  it('answers', async () => {
    const r = await server.query('{ tickets { totalCount voiceSummary } }');
    expect(r.data.tickets.totalCount).toBe(120);
  });
});

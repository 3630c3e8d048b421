// The operations allow-list: in strict mode only listed operations run, on HTTP and graphql-ws alike, whatever their
// formatting; otherwise unlisted operations run and are logged once. Files: .graphql, a directory, a JSON manifest.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { loadAllowList, useOperationAllowList } from '../src/server/allow-list';
import { createLogger } from '../src/logger';
import { type TestServer, startTestServer } from './helpers/server';

const dir = mkdtempSync(join(tmpdir(), 'udc-allow-'));
writeFileSync(
  join(dir, 'customers.graphql'),
  `# Two operations and a fragment, as a client project keeps them.
query ActiveCustomers { customers(filter: { status: ACTIVE }) { totalCount ...Names } }
query CustomerCount { customers { totalCount } }
fragment Names on CustomerConnection { nodes { name } }
`,
);
writeFileSync(join(dir, 'persisted-documents.json'), JSON.stringify({ abc123: 'query TicketCount { tickets { totalCount } }' }));

describe('operations allow-list', () => {
  let strict: TestServer;
  let open: TestServer;
  const warnings: string[] = [];

  beforeAll(async () => {
    const log = createLogger('silent');
    strict = await startTestServer({ data: { customers: 6, tickets: 4, days: 3, seed: 5 }, plugins: [useOperationAllowList({ path: dir, strict: true, log })] });
    const recording = createLogger('warn', (line) => warnings.push(line));
    open = await startTestServer({ database: strict.database, plugins: [useOperationAllowList({ path: dir, strict: false, log: recording })] });
  });
  afterAll(async () => {
    await open?.stop();
    await strict?.stop();
  });

  it('runs listed operations however they are formatted, one at a time or as the whole file', async () => {
    const reformatted = 'query CustomerCount {\n  customers {\n    totalCount\n  }\n}';
    expect((await strict.query(reformatted)).data.customers.totalCount).toBe(6);
    const withFragment = 'query ActiveCustomers { customers(filter: {status: ACTIVE}) { totalCount ...Names } } fragment Names on CustomerConnection { nodes { name } }';
    expect((await strict.query(withFragment)).errors).toBeUndefined();
    expect((await strict.query('query TicketCount { tickets { totalCount } }')).data.tickets.totalCount).toBe(4);
  });

  it('refuses anything else with OPERATION_NOT_ALLOWED, over HTTP and graphql-ws', async () => {
    const other = await strict.query('{ customers { totalCount nodes { email } } }');
    expect(other.data ?? null).toBeNull();
    expect(other.errors?.[0].extensions?.code).toBe('OPERATION_NOT_ALLOWED');
    // Same name, other selection: refused too (the text is what is allowed, not the name).
    expect((await strict.query('query CustomerCount { customers { totalCount nodes { email } } }')).errors?.[0].extensions?.code).toBe('OPERATION_NOT_ALLOWED');
    const client = createClient({ url: strict.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const result = await new Promise<any>((resolve, reject) => {
      let first: unknown;
      client.subscribe({ query: 'subscription { voiceEvents(sessionId: "s") { seq } }' }, { next: (r) => (first ??= r), error: reject, complete: () => resolve(first) });
    });
    await client.dispose();
    expect(result.errors?.[0].extensions?.code).toBe('OPERATION_NOT_ALLOWED');
  });

  it('without strict mode runs unlisted operations and logs each once', async () => {
    const q = '{ customers { totalCount nodes { email } } }';
    expect((await open.query(q)).data.customers.totalCount).toBe(6);
    expect((await open.query(q)).data.customers.totalCount).toBe(6);
    expect(warnings.filter((w) => w.includes('not on the allow-list'))).toHaveLength(1);
  });

  it('says which file is wrong, and strict mode needs a list', () => {
    const bad = join(dir, 'bad');
    writeFileSync(`${bad}.graphql`, 'query { nope');
    expect(() => loadAllowList(`${bad}.graphql`)).toThrowError(/allow-list .*bad\.graphql: Syntax Error/);
    expect(() => loadConfig({ OPERATIONS_STRICT: 'true' })).toThrowError(/OPERATIONS_STRICT: is true without OPERATIONS_ALLOW_LIST/);
  });
});

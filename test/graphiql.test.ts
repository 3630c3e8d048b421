// GraphiQL served whole from the server (no CDN): the page and every file it names over HTTP; the example operations it
// opens on (examples/NN-*.graphql); and in headless Chromium with every request outside 127.0.0.1 refused, the first
// example run at once, and with auth on a token pasted into the headers editor, a voice turn started and its events
// followed over server-sent events.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DocumentNode, Kind, type OperationDefinitionNode, parse, validate } from 'graphql';
import { SignJWT } from 'jose';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectory } from '../src/db/import';
import { createSchema } from '../src/schema';
import { createAuthenticator } from '../src/server/auth';
import { EXAMPLE_QUERY } from '../src/server/example-query';
import { defaultExamplesDir, loadExamples } from '../src/server/graphiql';
import { type TestBrowser, chromiumPresent, chromiumSkipNote, launchBrowser, screenshotPath } from './helpers/browser';
import { type TestServer, generatedDataDir, startTestServer } from './helpers/server';
import { readDataset } from './helpers/truth';
import { type VoiceServer, startVoiceServer } from './helpers/voice';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const tokenFor = (tenant: string, roles: string[]) =>
  new SignJWT({ tenant, roles }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

const operationOf = (document: DocumentNode) => document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

/** Open high-priority tickets in the seed files: the number the first example must show. */
const openHighPriority = (dir: string) => readDataset(dir).tickets.filter((t) => t.status === 'open' && t.priority === 'high').length;

/** The asset URLs a GraphiQL page names (links, scripts, and the Monaco workers in its inline script). */
const assetUrls = (html: string) => [...new Set(html.match(/\/graphql\/assets\/[^"'\s)]+/g) ?? [])];

let dataDir: string;
let server: TestServer;

beforeAll(async () => {
  dataDir = await generatedDataDir({ customers: 30, tickets: 80, days: 10, seed: 7 });
  server = await startTestServer({ data: dataDir });
});
afterAll(async () => {
  await server?.stop();
});

describe('the example operations GraphiQL opens on', () => {
  const examples = loadExamples(defaultExamplesDir);

  it('are the numbered files of examples/, in order, the first the tickets example, each valid against the schema', () => {
    expect(examples.map((e) => e.name)).toEqual([
      '01-open-high-priority-tickets',
      '02-active-customers',
      '03-customer-with-tickets',
      '04-metric-summary',
      '05-voice-turn',
      '06-voice-events',
    ]);
    // example-query.ts is the fallback when examples/ is missing: the same operation.
    expect(examples[0].query).toBe(EXAMPLE_QUERY);
    const schema = createSchema();
    const names = new Set<string>();
    for (const example of examples) {
      const document = parse(example.query);
      expect(validate(schema, document), example.name).toEqual([]);
      const name = operationOf(document)?.name?.value;
      expect(name, example.name).toBeTruthy();
      names.add(name!);
    }
    expect(names.size).toBe(examples.length);
    expect(JSON.parse(examples[5].variables!)).toHaveProperty('sessionId');
  });

  it('every query among them runs without errors as it is (no variables to fill in)', async () => {
    const queries = examples.filter((e) => operationOf(parse(e.query))?.operation === 'query');
    expect(queries.length).toBe(4);
    for (const example of queries) {
      const r = await server.query(example.query);
      expect(r.errors, example.name).toBeUndefined();
    }
    const first = await server.query(examples[0].query);
    expect(first.data.tickets.totalCount).toBe(openHighPriority(dataDir));
  });

  it('are the page’s default tabs', async () => {
    const html = await (await fetch(server.url, { headers: { accept: 'text/html' } })).text();
    const options = JSON.parse(/renderYogaGraphiQL\([^,]+,\s*(\{.*\})\s*\);/s.exec(html)![1]) as { defaultTabs: { query: string; variables: string | null; headers: string | null }[] };
    expect(options.defaultTabs.map((t) => t.query)).toEqual(examples.map((e) => e.query));
    // Without auth the tabs carry no headers to fill in.
    expect(options.defaultTabs.every((t) => t.headers === null)).toBe(true);
  });
});

describe('the GraphiQL page over HTTP', () => {
  it('is small, names only files of this server, and loads nothing from a CDN', async () => {
    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('YogaGraphiQL');
    expect(html.length).toBeLessThan(50_000);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/unpkg|jsdelivr|cdn/i);
    const urls = assetUrls(html);
    expect(urls.map((u) => u.split('/').pop()).sort()).toEqual(['editor.worker.js', 'favicon.ico', 'graphiql.css', 'graphiql.js', 'graphql.worker.js', 'json.worker.js']);
  });

  it('serves every file the page names with 200, its content type, gzip on request and immutable caching', async () => {
    const html = await (await fetch(server.url, { headers: { accept: 'text/html' } })).text();
    const types: Record<string, RegExp> = { js: /^text\/javascript/, css: /^text\/css/, ico: /^image\/x-icon/ };
    for (const url of assetUrls(html)) {
      const plain = await fetch(`${server.baseUrl}${url}`, { headers: { 'accept-encoding': 'identity' } });
      expect(plain.status, url).toBe(200);
      expect(plain.headers.get('content-type'), url).toMatch(types[url.split('.').pop()!]);
      expect(plain.headers.get('cache-control'), url).toBe('public, max-age=31536000, immutable');
      expect(plain.headers.get('content-encoding'), url).toBeNull();
      const bytes = (await plain.arrayBuffer()).byteLength;
      expect(bytes, url).toBeGreaterThan(1000);
      // Node's fetch asks for gzip and unpacks it: the same bytes arrive, fewer went over the wire.
      const gzipped = await fetch(`${server.baseUrl}${url}`);
      expect(gzipped.headers.get('content-encoding'), url).toBe('gzip');
      expect(Number(gzipped.headers.get('content-length')), url).toBeLessThan(bytes);
      expect((await gzipped.arrayBuffer()).byteLength, url).toBe(bytes);
    }
    // The main bundle is GraphiQL itself (React, Monaco), not a loader that goes elsewhere.
    const js = await (await fetch(`${server.baseUrl}${assetUrls(html).find((u) => u.endsWith('/graphiql.js'))}`)).text();
    expect(js).toContain('renderYogaGraphiQL');
    expect(js).not.toMatch(/unpkg\.com|cdn\.jsdelivr/);
  });

  it('answers 404 for files it does not have and 405 for other methods', async () => {
    const html = await (await fetch(server.url, { headers: { accept: 'text/html' } })).text();
    const js = assetUrls(html).find((u) => u.endsWith('/graphiql.js'))!;
    expect((await fetch(`${server.baseUrl}${js.replace('graphiql.js', 'package.json')}`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/graphql/assets/0.0.0/graphiql.js`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}${js.replace('graphiql.js', '../../../package.json')}`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}${js}`, { method: 'POST', body: '{}' })).status).toBe(405);
    const head = await fetch(`${server.baseUrl}${js}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});

describe('the GraphiQL page with auth on', () => {
  let authed: TestServer;
  beforeAll(async () => {
    authed = await startTestServer({ auth: createAuthenticator({ secret: SECRET, defaultTenant: 'default' }) });
  });
  afterAll(async () => {
    await authed?.stop();
  });

  it('loads without a token, also reloaded with the editor’s text in ?query= (GraphiQL keeps it there), and carries none', async () => {
    for (const url of [authed.url, `${authed.url}?query=${encodeURIComponent('{ customers { totalCount } }')}`]) {
      const page = await fetch(url, { headers: { accept: 'text/html' } });
      expect(page.status, url).toBe(200);
      const html = await page.text();
      expect(html).toContain('YogaGraphiQL');
      expect(html).not.toMatch(/eyJ/); // no JWT in the page
      // Each tab's headers editor starts with the line to fill in.
      expect(html).toContain('Bearer \\u003cpaste a token here>');
      for (const asset of assetUrls(html)) expect((await fetch(`${authed.baseUrl}${asset}`, { method: 'HEAD' })).status, asset).toBe(200);
    }
    // The same URL asked for JSON executes, so it needs a token.
    const json = await fetch(`${authed.url}?query=${encodeURIComponent('{ customers { totalCount } }')}`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(401);
  });
});

/** Clicks a GraphiQL tab until it is the active one (a click before the page has settled can be lost). */
async function openTab(page: Page, name: string) {
  for (let i = 0; i < 40; i++) {
    await page.locator('.graphiql-tab', { hasText: name }).click();
    if ((await page.locator('.graphiql-tab-active').innerText()) === name) return;
    await page.waitForTimeout(250);
  }
  throw new Error(`the GraphiQL tab ${name} did not open`);
}

/** Replaces the text of the headers or variables editor of the active tab. */
async function fillEditor(page: Page, section: 'Headers' | 'Variables', text: string) {
  await page.getByRole('button', { name: section, exact: true }).click();
  await page.locator(`section[aria-label="${section}"] .graphiql-editor:not(.hidden)`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
  // Monaco closes brackets and quotes as they are typed: drop what it added after the cursor.
  await page.keyboard.press('Shift+Control+End');
  await page.keyboard.press('Delete');
}

/**
 * Clicks GraphiQL's run button until the page sends `operation` (a click before the editors have loaded does nothing),
 * and returns that request.
 */
async function run(page: Page, operation: string) {
  const sends = (r: Request) => r.url().includes('/graphql') && new RegExp(`\\b${operation}\\b`).test(`${decodeURIComponent(r.url().replace(/\+/g, ' '))} ${r.postData() ?? ''}`);
  for (let i = 0; i < 40; i++) {
    const sent = page.waitForRequest(sends, { timeout: 1500 }).catch(() => null);
    await page.locator('.graphiql-execute-button').click();
    const request = await sent;
    if (request) return request;
  }
  throw new Error(`GraphiQL did not send ${operation}`);
}

/** The result pane's text, one space for every run of white space (Monaco shows spaces as no-break spaces). */
const resultText = async (page: Page) => (await page.locator('section.result-window').innerText()).replace(/\s+/g, ' ');

describe.skipIf(!chromiumPresent)(`GraphiQL in Chromium with no internet${chromiumSkipNote}`, () => {
  let browser: TestBrowser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('opens on the examples and runs the first at once, showing the server’s count; nothing is asked of a CDN', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url);
    await page.waitForSelector('.graphiql-query-editor .view-lines', { timeout: 60_000 });
    expect(await page.locator('.graphiql-tab').allInnerTexts()).toEqual(['OpenHighPriorityTickets', 'ActiveCustomers', 'CustomerWithTickets', 'MetricOverview', 'AskByVoice', 'VoiceEvents']);
    expect(await page.locator('.graphiql-tab-active').innerText()).toBe('OpenHighPriorityTickets');
    await run(page, 'OpenHighPriorityTickets');
    await page.waitForFunction(() => /"totalCount":\s*\d+/.test(document.querySelector('section.result-window')?.textContent ?? ''), null, { timeout: 30_000 });
    const shown = Number(/"totalCount":\s*(\d+)/.exec(await resultText(page))![1]);
    expect(shown).toBe(openHighPriority(dataDir));
    const direct = await server.query('{ tickets(filter: { status: OPEN, priority: HIGH }) { totalCount } }');
    expect(shown).toBe(direct.data.tickets.totalCount);
    expect(await resultText(page)).toMatch(/"voiceSummary": "I found \d+ open high-priority/);
    await page.screenshot({ path: screenshotPath('graphiql.png') });
    expect(browser.blocked).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  describe('with auth on', () => {
    let voice: VoiceServer;
    let token: string;
    beforeAll(async () => {
      voice = await startVoiceServer({ server: { auth: createAuthenticator({ secret: SECRET, defaultTenant: 'default' }) } });
      await importDirectory(voice.server.database, dataDir, { tenantId: 'acme' });
      token = await tokenFor('acme', ['viewer', 'voice']);
    });
    afterAll(async () => {
      await voice?.stop();
    });

    it('sends the token of the headers editor: a voice turn started, its events followed over server-sent events to the end', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.goto(voice.server.url);
      await page.waitForSelector('.graphiql-query-editor .view-lines', { timeout: 60_000 });
      const authorization = JSON.stringify({ Authorization: `Bearer ${token}` });

      await openTab(page, 'AskByVoice');
      await fillEditor(page, 'Headers', authorization);
      const request = await run(page, 'AskByVoice');
      expect(request.method()).toBe('POST');
      expect(request.url()).toBe(voice.server.url);
      expect(request.headers().authorization).toBe(`Bearer ${token}`);
      const response = (await request.response())!;
      const turn = ((await response.json()) as { data: { voiceTurn: { id: string; sessionId: string } } }).data.voiceTurn;
      expect(turn.id).toBeTruthy();

      await openTab(page, 'VoiceEvents');
      await fillEditor(page, 'Headers', authorization);
      await fillEditor(page, 'Variables', JSON.stringify({ sessionId: turn.sessionId, turnId: turn.id }));
      const sse = await run(page, 'VoiceEvents');
      // Same path as the page, the editor's token, server-sent events.
      expect(sse.headers().accept).toMatch(/text\/event-stream/);
      expect(new URL(sse.url()).pathname).toBe('/graphql');
      expect(sse.headers().authorization).toBe(`Bearer ${token}`);
      await page.waitForFunction(() => /"__typename":\s*"TurnCompletedEvent"/.test(document.querySelector('section.result-window')?.textContent ?? ''), null, { timeout: 60_000 });
      // The agent counted acme's tickets: its answer names the number of open high-priority ones in the seed files.
      expect(/"responseText": "([^"]*)"/.exec(await resultText(page))?.[1]).toMatch(new RegExp(`\\b${openHighPriority(dataDir)}\\b`));
      await page.screenshot({ path: screenshotPath('graphiql-voice.png') });
      expect(browser.blocked).toEqual([]);
      await context.close();
    }, 180_000);
  });
});

// The image copies examples/ beside dist/: the bundled server finds them where the source tree does.
describe('examples/ in the image', () => {
  it('is copied by the Dockerfile next to dist/', () => {
    const dockerfile = readFileSync(join(defaultExamplesDir, '..', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^COPY examples \.\/examples$/m);
  });
});

// GraphiQL served whole from this server: no CDN, so it works on a machine with no internet.
//
// yoga's built-in page loads GraphiQL from unpkg (yoga 5.24 pins @graphql-yoga/graphiql 4.5.1). The package
// @graphql-yoga/render-graphiql holds the same GraphiQL build as strings (the UMD bundle, its CSS with fonts inlined, the
// three Monaco workers, the favicon) and would inline all of it, about 9 MB, into every page. Instead the page here is
// small and names those strings as files under /graphql/assets/<version>/, served with their content types, gzip when
// asked, and a year of immutable caching (the version in the path changes when the package does). The strings are
// imported on the first asset request, not at start.
//
// The page opens on the product's example operations: examples/NN-*.graphql (files whose name starts with a number, in
// that order; the other files there are client documents for codegen) become GraphiQL's default tabs, each with the
// variables of a sibling NN-*.variables.json when there is one. They are read when the app is built, from the examples/
// folder beside src/ (or dist/, where the image copies it).
//
// The page carries no token and executes nothing. Queries go to the page's own path and subscriptions over
// server-sent events on that path (yoga GraphiQL's default), both with the headers of GraphiQL's headers editor, which
// is where a user pastes `Authorization: Bearer …` when auth is on.
import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';
import type { Logger } from '../logger';
import { EXAMPLE_QUERY } from './example-query';

/** Where examples/ is: beside src/ in the repository, beside dist/ in the image (scripts/build.ts keeps this URL). */
export const defaultExamplesDir = fileURLToPath(new URL('../../examples', import.meta.url));

/** Path prefix of GraphiQL's files. */
export const GRAPHIQL_ASSETS_PATH = '/graphql/assets';

export interface ExampleTab {
  /** The file it came from (without .graphql). */
  name: string;
  query: string;
  /** JSON text of the tab's variables, when the example has a .variables.json file. */
  variables?: string;
}

/**
 * The numbered examples (NN-name.graphql) of `dir`, in order, with their variables. Throws when a variables file is not
 * JSON (a broken example should stop the start, not show up as an empty tab).
 */
export function loadExamples(dir: string): ExampleTab[] {
  return readdirSync(dir)
    .filter((file) => /^\d+-.*\.graphql$/.test(file))
    .sort()
    .map((file) => {
      const name = basename(file, '.graphql');
      const query = readFileSync(join(dir, file), 'utf8');
      let variables: string | undefined;
      try {
        variables = readFileSync(join(dir, `${name}.variables.json`), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      if (variables !== undefined) {
        try {
          variables = JSON.stringify(JSON.parse(variables), null, 2);
        } catch (error) {
          throw new Error(`examples: ${name}.variables.json is not JSON: ${(error as Error).message}`);
        }
      }
      return { name, query, ...(variables !== undefined ? { variables } : {}) };
    });
}

export interface GraphiQLPageOptions {
  title: string;
  log: Logger;
  /** Folder of the example operations; defaultExamplesDir when absent. */
  examplesDir?: string;
  /** Auth is on: each tab's headers editor starts with an Authorization line to fill in. */
  authEnabled?: boolean;
}

export interface GraphiQLPage {
  /** yoga's `graphiql` option: title and default tabs. */
  options: GraphiQLOptions;
  /** yoga's `renderGraphiQL`: the page, naming the files below. */
  render(options: GraphiQLOptions): string;
  /** Answers GET/HEAD of a file under /graphql/assets/; false for any other request. */
  serveAsset(req: IncomingMessage, res: ServerResponse): boolean;
  /** The URLs of the files the page loads (for tests and for preloading). */
  assetUrls(): string[];
}

interface Asset {
  contentType: string;
  /** The bytes from the render-graphiql strings (and their gzip, made on first use). */
  load(strings: GraphiQLStrings): Buffer;
}

type GraphiQLStrings = typeof import('@graphql-yoga/render-graphiql/graphiql');

const JS = 'text/javascript; charset=utf-8';
const ASSETS: Record<string, Asset> = {
  'graphiql.js': { contentType: JS, load: (s) => Buffer.from(s.js) },
  'graphiql.css': { contentType: 'text/css; charset=utf-8', load: (s) => Buffer.from(s.css) },
  'editor.worker.js': { contentType: JS, load: (s) => Buffer.from(s.editorWorkerService) },
  'json.worker.js': { contentType: JS, load: (s) => Buffer.from(s.jsonWorker) },
  'graphql.worker.js': { contentType: JS, load: (s) => Buffer.from(s.graphqlWorker) },
  'favicon.ico': { contentType: 'image/x-icon', load: (s) => Buffer.from(s.favicon.replace(/^data:[^,]*;base64,/, ''), 'base64') },
};

/** The Monaco worker file for each label GraphiQL asks for (the editor's own worker for any other). */
const WORKERS: Record<string, string> = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };

const AUTH_HEADERS = `{\n  "Authorization": "Bearer <paste a token here>"\n}`;

/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function createGraphiQLPage({ title, log, examplesDir = defaultExamplesDir, authEnabled = false }: GraphiQLPageOptions): GraphiQLPage {
  const version = (createRequire(import.meta.url)('@graphql-yoga/render-graphiql/package.json') as { version: string }).version;
  const base = `${GRAPHIQL_ASSETS_PATH}/${version}`;

  let examples: ExampleTab[] = [];
  try {
    examples = loadExamples(examplesDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (examples.length === 0) {
    log.warn('graphiql: no examples found; opening on the built-in example', { examplesDir });
    examples = [{ name: 'example', query: EXAMPLE_QUERY }];
  }
  const headers = authEnabled ? AUTH_HEADERS : undefined;
  const options: GraphiQLOptions = {
    title,
    defaultTabs: examples.map(({ query, variables }) => ({ query, variables: variables ?? null, headers: headers ?? null })),
    ...(headers ? { defaultHeaders: headers } : {}),
  };

  // Loaded and compressed once, on the first request for each file; the process keeps them (about 9 MB, 2 MB gzipped).
  let strings: Promise<GraphiQLStrings> | null = null;
  const loadStrings = () => {
    strings ??= import('@graphql-yoga/render-graphiql/graphiql');
    strings.catch(() => {
      strings = null;
    });
    return strings;
  };
  const bodies = Object.fromEntries(Object.entries(ASSETS).map(([name, asset]) => [name, cachedFile(async () => asset.load(await loadStrings()))]));
  const body = (name: string) => bodies[name]();

  function render(given: GraphiQLOptions): string {
    const workers = Object.fromEntries(Object.entries(WORKERS).map(([label, file]) => [label, `${base}/${file}`]));
    return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(given.title ?? title)}</title>
    <link rel="icon" href="${base}/favicon.ico" />
    <link rel="stylesheet" href="${base}/graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root">Loading GraphiQL…</div>
    <script>
      const workers = ${scriptJson(workers)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (moduleId, label) => workers[label] || workers.editorWorkerService };
    </script>
    <script src="${base}/graphiql.js"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${scriptJson(given)});
    </script>
  </body>
</html>
`;
  }

  function serveAsset(req: IncomingMessage, res: ServerResponse): boolean {
    const path = req.url?.split('?')[0] ?? '';
    if (!path.startsWith(`${GRAPHIQL_ASSETS_PATH}/`)) return false;
    const name = path.slice(base.length + 1);
    const known = path.startsWith(`${base}/`) && Object.hasOwn(ASSETS, name);
    sendAsset(req, res, known ? { contentType: ASSETS[name].contentType, body: () => body(name) } : null, log);
    return true;
  }

  return { options, render, serveAsset, assetUrls: () => Object.keys(ASSETS).map((name) => `${base}/${name}`) };
}

/** A static file's bytes, raw and gzipped. */
export interface AssetBody {
  raw: Buffer;
  gzipped: Buffer;
}

/** Reads a file and gzips it, once; a failed read is tried again on the next request. */
export function cachedFile(read: () => Promise<Buffer>): () => Promise<AssetBody> {
  let found: Promise<AssetBody> | null = null;
  return () => {
    found ??= read().then(async (raw) => ({ raw, gzipped: await promisify(gzip)(raw) }));
    found.catch(() => {
      found = null;
    });
    return found;
  };
}

/**
 * Answers GET/HEAD of a versioned static file (null: 404) with its content type, gzip when the client accepts it, and
 * a year of immutable caching: the version is in the path, so a new version is a new URL.
 */
export function sendAsset(req: IncomingMessage, res: ServerResponse, asset: { contentType: string; body: () => Promise<AssetBody> } | null, log: Logger): void {
  const refuse = (status: number, error: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error }));
  };
  if (!asset) return refuse(404, 'not found');
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(405, 'method not allowed', { allow: 'GET, HEAD' });
  const wantsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  asset.body().then(
    ({ raw, gzipped }) => {
      const sent = wantsGzip ? gzipped : raw;
      res.writeHead(200, {
        'content-type': asset.contentType,
        'content-length': sent.length,
        'cache-control': 'public, max-age=31536000, immutable',
        vary: 'accept-encoding',
        'x-content-type-options': 'nosniff',
        ...(wantsGzip ? { 'content-encoding': 'gzip' } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : sent);
    },
    (error: unknown) => {
      log.error('static file failed', { path: req.url, error: (error as Error).message });
      if (!res.headersSent) refuse(500, 'internal server error');
      else res.end();
    },
  );
}

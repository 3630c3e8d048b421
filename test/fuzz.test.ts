// Schema-driven fuzzing through the front door: random valid operations generated from the schema (root queries and
// voiceTurn, arguments of the right type with edge values, random sub-selections to a bounded depth, inline fragments
// on interfaces, @include/@skip), then the same operations with mutated variables (wrong types, missing, extra, null,
// unknown enum values) and broken documents, sent over HTTP to a real server on a small generated dataset. Every answer
// must be below HTTP 500, every error must carry extensions.code (and none may be INTERNAL_SERVER_ERROR), no message
// may hold a stack trace or SQL, and the server must still answer at the end. 2,000 operations by default (1,500 on
// PGlite) with a fixed seed; FUZZ_RUNS=20000 for a long run (random seed unless FUZZ_SEED is set). A failure prints
// FUZZ_SEED and FUZZ_ONLY (run that one operation alone), its text, variables and answer.
import {
  type GraphQLEnumType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
} from 'graphql';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema } from '../src/schema';
import { type TestDatabase, createTestDatabase, databaseKind, usingPostgres } from './helpers/database';
import { type TestServer, startTestServer } from './helpers/server';

/** PGlite runs its SQL on this process's thread: fewer operations there keep the file near 20 s on 2 cores. */
const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? (usingPostgres ? 2000 : 1500)));
/** Only this operation (its number in a failure report), to reproduce one failure alone. */
const ONLY = process.env.FUZZ_ONLY ? Number(process.env.FUZZ_ONLY) : null;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS ? Math.floor(Math.random() * 2 ** 31) : 20261129;
/** Requests in flight at once. */
const CONCURRENCY = 8;
/** Deepest selection below a root field. */
const MAX_DEPTH = 4;

// ---- A seeded PRNG: one stream per operation, so operation #n reproduces alone from (seed, n). ----

type Rng = () => number;

function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rngFor = (seed: number, n: number) => mulberry32(Math.imul(seed ^ 0x9e3779b9, 2654435761) ^ Math.imul(n + 1, 0x85ebca6b));

// ---- Values ----

/** An enum value: a bare name in a document, a string in variables. */
class EnumName {
  constructor(readonly name: string) {}
}

type Value = null | boolean | number | string | EnumName | Value[] | { [key: string]: Value };

function literal(value: Value): string {
  if (value === null) return 'null';
  if (value instanceof EnumName) return value.name;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}: ${literal(v)}`).join(', ')}}`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function json(value: Value): unknown {
  if (value instanceof EnumName) return value.name;
  if (Array.isArray(value)) return value.map(json);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, json(v)]));
  return value;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Cursors of every order with keys a client could forge: wrong types, fractions, huge numbers, NUL, impossible days. */
function forgedCursors(schema: GraphQLSchema): string[] {
  const orders = ['CustomerOrder', 'TicketOrder'].flatMap((name) => (schema.getType(name) as GraphQLEnumType).getValues().map((v) => v.name));
  const keys: unknown[][] = [
    [1],
    [1.5],
    [1e300],
    [-1],
    [2 ** 40],
    ['\u0000', 1],
    ['Acme', 1.5],
    ['Acme', 3],
    ['2026-02-30T00:00:00.000Z', 1],
    ['0000-01-01T00:00:00.000Z', 1],
    ['2026-11-20T10:00:00.000Z', 2 ** 40],
    [1, '2026-11-20T10:00:00.000Z', 3],
    [1, '2026-02-31T00:00:00.000Z', 3],
    [1, '+275760-09-13T00:00:00.000Z', 3],
    ['2026-02-31', 'revenue'],
    ['0000-01-01', 'revenue'],
    ['2026-11-20', '\u0000'],
    ['2026-11-20', 'revenue'],
  ];
  return [...orders, 'NEWEST_FIRST'].flatMap((order) => keys.map((key) => b64url([order, ...key])));
}

/** Values learned from the server before fuzzing (ids, cursors, metric names, words of the data). */
interface Pools {
  ints: number[];
  ids: string[];
  cursors: string[];
  metrics: string[];
  words: string[];
}

const EDGE_INTS = [0, 1, 1, 2, 3, 5, 10, 50, 99, 100, 101, -1, -100, 3650, 3651, 1_000_000, 1_000_001, 2_147_483_647, -2_147_483_648];
const EDGE_FLOATS = [0, -0.5, 1.5, 1e-300, 1e300, -1e300, 123456.789];
const EDGE_STRINGS = [
  '',
  ' ',
  'a',
  'Acme',
  'x'.repeat(200),
  'x'.repeat(201),
  'y'.repeat(5000),
  'é漢字🙂',
  'ñ'.repeat(150),
  '%',
  '_',
  '%_%',
  '\\',
  'a\\',
  "O'Brien",
  "'; DROP TABLE customers; --",
  '"quoted"',
  'line\nbreak\ttab',
  'nul\u0000byte',
  '\u0000',
  '\ud800',
  '\u202e\u200b',
  'null',
  'undefined',
  '0',
  '-1',
  '2026-11-20',
  'revenue',
  'troy',
  'en-us',
  'session_1',
  '00000000-0000-4000-8000-000000000000',
];
const DATE_TIMES = [
  '2026-11-20T00:00:00Z',
  '2026-11-01',
  '2026-11-20T10:00',
  '2026-11-20T10:00:00.123456789+05:30',
  '1970-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2026-02-30T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-13-45',
  '0001-01-01T00:00:00+14:00',
  '9999-12-31T23:59:59-14:00',
  '+275760-09-13T00:00:00Z',
  'yesterday',
  '',
];
const DATES = ['2026-11-20', '2026-11-10', '2026-10-01', '2024-02-29', '2026-02-29', '2026-02-31', '2026-13-45', '0000-01-01', '0001-01-01', '9999-12-31', '20261120', '2026-1-1', ''];
const BAD_IDS = ['garbage', '', '12', b64('Customer:abc'), b64('Customer:0'), b64('Customer:-1'), b64('Customer:99999999999'), b64('Foo:1'), b64('MetricPoint:1'), b64('Customer:1:2'), b64('Customer:'), b64(':1'), '====', 'x'.repeat(3000)];

class Generator {
  private variables: { name: string; type: string; value: Value }[] = [];
  private aliasCount = 0;

  /** How often a value is an edge value rather than a plausible one: each operation draws its own. */
  private readonly wildness: number;

  constructor(
    private readonly rng: Rng,
    private readonly schema: GraphQLSchema,
    private readonly pools: Pools,
  ) {
    this.wildness = this.chance(0.3) ? 0 : this.rng() * 0.6;
  }

  private chance(p: number) {
    return this.rng() < p;
  }

  private int(n: number) {
    return Math.floor(this.rng() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  private sample<T>(items: readonly T[], count: number): T[] {
    const copy = [...items];
    const out: T[] = [];
    while (out.length < count && copy.length) out.push(copy.splice(this.int(copy.length), 1)[0]);
    return out;
  }

  /**
   * A value of this input type for an argument or input field of this name: plausible for the name, or (as often as
   * this operation's wildness says) an edge value of the type; sometimes null where null is allowed.
   */
  value(type: GraphQLInputType, name: string): Value {
    if (!isNonNullType(type) && this.chance(0.05 + 0.1 * this.wildness)) return null;
    const inner = isNonNullType(type) ? type.ofType : type;
    const wild = this.chance(this.wildness);
    if (isListType(inner)) return Array.from({ length: this.int(4) }, () => this.value(inner.ofType, name));
    if (isEnumType(inner)) return new EnumName(this.pick(inner.getValues()).name);
    if (isInputObjectType(inner)) {
      const out: Record<string, Value> = {};
      for (const field of Object.values(inner.getFields())) {
        if (isNonNullType(field.type) || this.chance(0.4)) out[field.name] = this.value(field.type, field.name);
      }
      return out;
    }
    switch (inner.name) {
      case 'Int':
        return wild ? this.pick(EDGE_INTS) : name === 'lastDays' ? this.pick([1, 7, 30, 365]) : this.pick(this.pools.ints);
      case 'Float':
        return this.pick(EDGE_FLOATS);
      case 'Boolean':
        return this.chance(0.5);
      case 'ID':
        return wild ? this.pick([...BAD_IDS, ...EDGE_STRINGS]) : this.pick(this.pools.ids);
      case 'DateTime':
        return wild ? this.pick(DATE_TIMES) : this.pick(DATE_TIMES.slice(0, 4));
      case 'Date':
        return wild ? this.pick(DATES) : this.pick(DATES.slice(0, 3));
      default:
        if (wild) return this.pick([...EDGE_STRINGS, ...this.pools.cursors, ...this.pools.words]);
        if (name === 'after') return this.pick(this.pools.cursors);
        if (name === 'metric') return this.pick(this.pools.metrics);
        return this.pick(this.pools.words);
    }
  }

  /** Arguments of a field, inline or through declared variables. */
  private args(field: GraphQLField<unknown, unknown>): string {
    const parts: string[] = [];
    for (const arg of field.args) {
      if (!isNonNullType(arg.type) && !this.chance(0.5)) continue;
      const value = this.value(arg.type, arg.name);
      if (this.chance(0.5)) {
        const name = `v${this.variables.length}`;
        this.variables.push({ name, type: String(arg.type), value });
        parts.push(`${arg.name}: $${name}`);
      } else {
        parts.push(`${arg.name}: ${literal(value)}`);
      }
    }
    return parts.length ? `(${parts.join(', ')})` : '';
  }

  /** A field with arguments and sub-selection; `prefix` aliases it (fields inside a type condition). */
  private field(field: GraphQLField<unknown, unknown>, depth: number, prefix = ''): string | null {
    const named = getNamedType(field.type);
    const sub = isLeafType(named) ? '' : this.selection(named, depth + 1);
    if (sub === null) return null;
    const alias = prefix ? `${prefix}${field.name}: ` : this.chance(0.3) ? `a${this.aliasCount++}: ` : '';
    const directive = this.chance(0.05) ? ` @${this.pick(['include', 'skip'])}(if: ${this.chance(0.5)})` : '';
    return `${alias}${field.name}${this.args(field)}${directive}${sub ? ` ${sub}` : ''}`;
  }

  /** A selection set on a composite type; null when the depth is spent and the type has no leaf field to take. */
  selection(type: GraphQLNamedType, depth: number, prefix = ''): string | null {
    if (isUnionType(type) || isInterfaceType(type)) {
      const possible = this.schema.getPossibleTypes(type);
      const parts = ['__typename'];
      if (isInterfaceType(type)) {
        for (const f of this.sample(Object.values(type.getFields()), 1 + this.int(2))) {
          const s = this.field(f, depth);
          if (s) parts.push(s);
        }
      }
      for (const t of this.sample(possible, this.int(possible.length + 1))) {
        // Fields of different types under one parent must not share a response name with another shape: alias them.
        const inner = this.selection(t, depth, `${t.name}_`);
        if (inner) parts.push(`... on ${t.name} ${inner}`);
      }
      return `{ ${parts.join(' ')} }`;
    }
    if (!isObjectType(type)) return null;
    const fields = Object.values(type.getFields());
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const candidates = depth >= MAX_DEPTH ? leaves : fields;
    if (!candidates.length) return null;
    const parts: string[] = [];
    for (const f of this.sample(candidates, 1 + this.int(Math.min(4, candidates.length)))) {
      const s = this.field(f, depth, prefix);
      if (s) parts.push(s);
    }
    if (!parts.length) parts.push('__typename');
    return `{ ${parts.join(', ')} }`;
  }

  /** A valid operation: 1 or 2 root fields of Query, or voiceTurn (the test server has no voice: VOICE_DISABLED). */
  operation(): { query: string; variables: Record<string, unknown>; declared: { name: string; type: string }[] } {
    const mutation = this.chance(0.05);
    const root = mutation ? this.schema.getMutationType()! : this.schema.getQueryType()!;
    const fields = Object.values(root.getFields());
    const parts: string[] = [];
    for (const [i, f] of this.sample(fields, mutation ? 1 : 1 + this.int(2)).entries()) {
      const s = this.field(f, 0);
      if (s) parts.push(`r${i}: ${s.replace(/^a\d+: /, '')}`);
    }
    const declared = this.variables.map(({ name, type }) => ({ name, type }));
    const header = declared.length ? `(${declared.map((v) => `$${v.name}: ${v.type}`).join(', ')})` : '';
    const query = `${mutation ? 'mutation' : 'query'} Fuzz${header} { ${parts.join(' ')} }`;
    const variables = Object.fromEntries(this.variables.map((v) => [v.name, json(v.value)]));
    return { query, variables, declared };
  }

  /** The same operation with its variables broken: wrong types, missing, extra, null, unknown enum values. */
  mutateVariables(variables: Record<string, unknown>, declared: { name: string; type: string }[]): Record<string, unknown> {
    const out = { ...variables };
    const wrong: unknown[] = ['', 'NOT_A_VALUE', 'open', 12, -7, 1.5, 2 ** 53, true, null, [], [1, 'a'], {}, { nope: 1 }, 'x'.repeat(10_000), '\u0000'];
    for (let i = 0, n = 1 + this.int(3); i < n; i++) {
      const target = declared.length ? this.pick(declared).name : null;
      const action = this.int(6);
      if (action === 0 && target) delete out[target];
      else if (action === 1 && target) out[target] = null;
      else if (action === 2) out[`extra${i}`] = this.pick(wrong);
      else if (action === 3 && target && out[target] && typeof out[target] === 'object' && !Array.isArray(out[target])) {
        const obj = { ...(out[target] as Record<string, unknown>) };
        const key = this.pick([...Object.keys(obj), 'status', 'priority', 'customerId', 'search', 'lastDays', 'from', 'text', 'audio', 'audioFormat', 'bogus']);
        obj[key] = this.pick(wrong);
        out[target] = obj;
      } else if (target) out[target] = this.pick(wrong);
    }
    return out;
  }

  /** A document that is no longer valid GraphQL: cut short, a character dropped or doubled, a brace added. */
  breakDocument(query: string): string {
    const at = this.int(query.length);
    switch (this.int(5)) {
      case 0:
        return query.slice(0, at);
      case 1:
        return query.slice(0, at) + query.slice(at + 1);
      case 2:
        return query.slice(0, at) + query[at] + query.slice(at);
      case 3:
        return query.slice(0, at) + this.pick(['{', '}', '(', ')', '$', '"', '...', '@skip', '#', ':', '!', '\u0000']) + query.slice(at);
      default:
        return query.replace(/\b(customers|tickets|metrics|edges|node|totalCount)\b/, this.pick(['customer', 'nodes', 'ticketz', '__schema', 'voiceEvents']));
    }
  }
}

// ---- The checks ----

/** Stack frames, source paths, SQL text and database error wording: none may reach a client. */
const LEAK = /\n\s+at |\bat \S+ \(|node_modules|\.[cm]?[jt]s:\d+|\b(select|insert|update|delete)\b[^"]{0,200}\b(from|into|set|where)\b|relation "|syntax error at or near|invalid byte sequence|out of range|violates|drizzle|postgres|pglite|ECONNREFUSED/i;

interface Case {
  n: number;
  kind: 'valid' | 'mutated' | 'broken';
  query: string;
  variables: Record<string, unknown>;
}

interface Outcome {
  status: number;
  codes: string[];
  problems: string[];
  body: string;
}

async function send(url: string, c: Case): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: c.query, variables: c.variables }),
    });
  } catch (error) {
    return { status: 0, codes: [], problems: [`no answer: ${(error as Error).message}`], body: '' };
  }
  const text = await response.text();
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`HTTP ${response.status}`);
  let body: { data?: unknown; errors?: { message?: unknown; extensions?: Record<string, unknown> }[] } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    problems.push('the body is not JSON');
  }
  const codes: string[] = [];
  if (body) {
    if (!('data' in body) && !body.errors?.length) problems.push('neither data nor errors');
    for (const error of body.errors ?? []) {
      const code = error.extensions?.code;
      if (typeof code !== 'string' || !code) problems.push(`an error without extensions.code: ${JSON.stringify(error).slice(0, 300)}`);
      else codes.push(code);
      if (code === 'INTERNAL_SERVER_ERROR') problems.push('an unexpected (INTERNAL_SERVER_ERROR) error');
      const shown = JSON.stringify({ message: error.message, extensions: error.extensions });
      if (LEAK.test(shown)) problems.push(`internals in an error: ${shown.slice(0, 300)}`);
    }
  }
  return { status: response.status, codes, problems, body: text };
}

interface Answer {
  data?: unknown;
  errors?: { path?: (string | number)[] }[];
}

/**
 * Whether the compiled answer is graphql-js's: the same status and data, and every error graphql-js gave (in any
 * order). It may name more errors than graphql-js, all under an object that a null replaced: graphql-js stops running
 * the siblings of a field whose null bubbles up, graphql-jit runs them and keeps what they said.
 */
function sameAnswer(compiled: Outcome, interpreted: Outcome): boolean {
  if (compiled.status !== interpreted.status) return false;
  if (compiled.body === interpreted.body) return true;
  const a = JSON.parse(compiled.body) as Answer;
  const b = JSON.parse(interpreted.body) as Answer;
  if (!isDeepStrictEqual(a.data, b.data)) return false;
  const extra = (a.errors ?? []).map((e) => JSON.stringify(e));
  for (const error of b.errors ?? []) {
    const at = extra.indexOf(JSON.stringify(error));
    if (at < 0) return false;
    extra.splice(at, 1);
  }
  const underNull = (path: (string | number)[] = []) =>
    a.data === null || path.some((_, i) => i < path.length - 1 && dig(a.data, path.slice(0, i + 1)) === null);
  return extra.every((e) => underNull((JSON.parse(e) as { path?: (string | number)[] }).path));
}

const dig = (value: unknown, path: (string | number)[]) => path.reduce<unknown>((v, key) => (v as Record<string, unknown> | null)?.[key], value);

/** Sends the cases with a bounded number in flight, reporting each outcome. */
async function runAll(url: string, cases: Case[], onOutcome: (c: Case, o: Outcome) => void) {
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      onOutcome(c, await send(url, c));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

// ---- The test ----

let server: TestServer;
/** The same app on the same database without compiled queries: every answer above must equal its answer. */
let interpreted: TestServer;
let database: TestDatabase;
let pools: Pools;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer({ database, data: { customers: 12, tickets: 40, days: 20, seed: 7, anchorDate: '2026-11-24' } });
  interpreted = await startTestServer({ database, http: { compiledQueries: false } });
  const r = await server.query(`{
    customers(first: 5) { edges { cursor node { id customerId name } } pageInfo { endCursor } }
    tickets(first: 5) { edges { cursor node { id ticketId customerId subject } } pageInfo { endCursor } }
    metrics(first: 3) { edges { cursor } }
    metricNames
  }`);
  expect(r.errors).toBeUndefined();
  const customers = r.data.customers.edges.map((e: any) => e.node);
  const tickets = r.data.tickets.edges.map((e: any) => e.node);
  pools = {
    ints: [...customers.map((c: any) => c.customerId), ...tickets.map((t: any) => t.ticketId), 1, 2, 3, 5, 10, 20],
    ids: [...customers.map((c: any) => c.id), ...tickets.map((t: any) => t.id), b64('Customer:424242'), b64('Ticket:424242')],
    cursors: [...r.data.customers.edges, ...r.data.tickets.edges, ...r.data.metrics.edges].map((e: any) => e.cursor),
    metrics: r.data.metricNames,
    words: [...customers.map((c: any) => c.name.split(' ')[0]), ...tickets.map((t: any) => t.subject.split(' ')[0]), 'session_1', 'troy', 'Hello'],
  };
});
afterAll(async () => {
  await server?.stop();
  await interpreted?.stop();
  await database?.close();
});

describe(`schema-driven fuzzing over HTTP (${databaseKind})`, () => {
  it(
    `answers ${RUNS} generated operations without a 5xx, an uncoded error or leaked internals (FUZZ_SEED=${SEED})`,
    async () => {
      const schema = createSchema();
      pools.cursors.push(...forgedCursors(schema));
      const cases: Case[] = [];
      for (let n = ONLY ?? 0; n < (ONLY != null ? ONLY + 1 : RUNS); n++) {
        const rng = rngFor(SEED, n);
        const gen = new Generator(rng, schema, pools);
        const op = gen.operation();
        const roll = rng();
        if (roll < 0.6) cases.push({ n, kind: 'valid', query: op.query, variables: op.variables });
        else if (roll < 0.9) cases.push({ n, kind: 'mutated', query: op.query, variables: gen.mutateVariables(op.variables, op.declared) });
        else cases.push({ n, kind: 'broken', query: gen.breakDocument(op.query), variables: op.variables });
      }

      const failures: string[] = [];
      let failed = 0;
      const stats = { valid: 0, validWithData: 0, codes: new Map<string, number>() };
      const started = Date.now();
      const cpu = process.cpuUsage();
      const answers = new Map<number, Outcome>();
      await runAll(server.url, cases, (c, o) => {
        answers.set(c.n, o);
        for (const code of o.codes) stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
        if (c.kind === 'valid') {
          stats.valid += 1;
          // Voice is off on this server: an operation whose only errors say so still ran.
          if (o.codes.every((code) => code === 'VOICE_DISABLED')) stats.validWithData += 1;
        }
        if (o.problems.length) failed += 1;
        if (o.problems.length && failures.length < 10) {
          failures.push(
            [
              `FUZZ_SEED=${SEED} FUZZ_ONLY=${c.n} (a ${c.kind} operation): ${o.problems.join('; ')}`,
              `  query: ${c.query.slice(0, 2000)}`,
              `  variables: ${JSON.stringify(c.variables).slice(0, 2000)}`,
              `  answer (HTTP ${o.status}): ${o.body.slice(0, 1000)}`,
            ].join('\n'),
          );
        }
      });
      const seconds = (Date.now() - started) / 1000;
      const { user, system } = process.cpuUsage(cpu);
      console.log(
        `fuzz: seed ${SEED}, ${cases.length} operations in ${seconds.toFixed(1)} s (${((user + system) / 1e6).toFixed(1)} s of CPU), ${failed} failed; ${stats.validWithData}/${stats.valid} valid ones answered without errors; codes: ${JSON.stringify(Object.fromEntries(stats.codes))}`,
      );
      if (failures.length) console.error(failures.join('\n\n'));
      expect(failures, failures.join('\n\n')).toEqual([]);

      // Compiled execution (server/compiled-queries.ts) answers exactly as graphql-js's executor: status and body.
      const differences: string[] = [];
      await runAll(interpreted.url, cases, (c, o) => {
        const compiled = answers.get(c.n)!;
        if (!sameAnswer(compiled, o) && differences.length < 10) {
          differences.push(
            [
              `FUZZ_SEED=${SEED} FUZZ_ONLY=${c.n} (a ${c.kind} operation) answers differently when compiled`,
              `  query: ${c.query.slice(0, 2000)}`,
              `  variables: ${JSON.stringify(c.variables).slice(0, 2000)}`,
              `  compiled (HTTP ${compiled.status}): ${compiled.body.slice(0, 1000)}`,
              `  graphql-js (HTTP ${o.status}): ${o.body.slice(0, 1000)}`,
            ].join('\n'),
          );
        }
      });
      expect(differences, differences.join('\n\n')).toEqual([]);
      // The generator must often produce operations that run, or it tests only the argument checks.
      if (ONLY == null) expect(stats.validWithData / stats.valid).toBeGreaterThan(0.25);

      // The process is alive and still answers, through GraphQL and the health check.
      const alive = await server.query('{ __typename metricNames }');
      expect(alive.data?.__typename).toBe('Query');
      expect(alive.data?.metricNames.length).toBeGreaterThan(0);
      expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
    },
    Math.max(120_000, RUNS * 60),
  );
});

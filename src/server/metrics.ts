// Prometheus metrics (prom-client) on one Registry per app: no global registry, so every app (and every test's app)
// counts only its own traffic. What is measured:
// - HTTP answers by route and status (every answer of the server, 401/503 and cache hits included);
// - GraphQL operations, their errors by extensions.code, and execution time, by operation name and type (an envelop
//   plugin: every transport and the direct path run through it; cache hits never execute, so only the HTTP counter sees them);
// - open graphql-ws sockets and active subscriptions (gauges moved by ws.ts);
// - voice turns by status and error code, and each stage's duration from the turn's timings (service.ts);
// - prom-client's default process metrics, event-loop lag included.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type DocumentNode, type ExecutionResult, getOperationAST } from 'graphql';
import { type Plugin, handleStreamOrSingleExecutionResult } from 'graphql-yoga';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StatementObserver } from '../db/client';
import type { GraphQLContext } from '../schema/context';

/** The turn outcome fields the voice metrics read (voice/pipeline.ts TurnOutcome). */
export interface TurnOutcomeLike {
  status: string;
  error: { code: string } | null;
  timings: { sttMs: number | null; agentMs: number | null; firstAudioMs: number | null; totalMs: number } | null;
}

export interface WebSocketMetrics {
  socketOpened(): void;
  socketClosed(): void;
  subscriptionStarted(): void;
  subscriptionEnded(): void;
}

export interface VoiceMetrics {
  turnFinished(outcome: TurnOutcomeLike): void;
  /** One HTTP request to the speech or language provider (Groq): endpoint, status or 'network_error', retry or not. */
  providerRequest(request: { endpoint: string; outcome: string; retry: boolean }): void;
}

export interface Metrics {
  registry: Registry;
  /** Counts operations, errors and execution time; goes after the error-masking plugin, so it sees final codes. */
  plugin: Plugin<GraphQLContext>;
  ws: WebSocketMetrics;
  voice: VoiceMetrics;
  /** SQL time and pool use: pass `observeStatement` to the database (createDatabase), and say how big its pool is. */
  database: { observeStatement: StatementObserver; poolSize(connections: number): void };
  /** Counts one HTTP answer when it has been sent. */
  observeHttp(req: IncomingMessage, res: ServerResponse): void;
  /** Answers a scrape (text exposition format). */
  serve(res: ServerResponse): Promise<void>;
}

export interface MetricsOptions {
  /** prom-client's default process metrics (CPU, memory, GC, event-loop lag); default true. */
  defaultMetrics?: boolean;
  /** Distinct operation names kept as labels; later ones are counted as "other" (names come from clients). */
  maxOperationNames?: number;
}

/** Seconds: from a millisecond query to a slow count over a large table. */
const EXECUTION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds: voice stages run from tens of milliseconds (local STT) to several seconds (an agent with tools). */
const VOICE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32];
const ROUTES = new Set(['/graphql', '/health', '/ready', '/metrics']);
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

export function createMetrics({ defaultMetrics = true, maxOperationNames = 200 }: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({ name: 'http_requests_total', help: 'HTTP answers by route and status code.', labelNames: ['route', 'status'] as const, registers: [registry] });
  const operations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations executed or subscribed, by operation name and type (HTTP and graphql-ws).',
    labelNames: ['operation', 'type'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors in results, by operation name and extensions.code (parse and validation errors included).',
    labelNames: ['operation', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'graphql_execution_duration_seconds',
    help: 'Execution time of queries and mutations (not subscriptions), by operation name and type.',
    labelNames: ['operation', 'type'] as const,
    buckets: EXECUTION_BUCKETS,
    registers: [registry],
  });
  const sockets = new Gauge({ name: 'graphql_ws_sockets', help: 'Open graphql-ws sockets.', registers: [registry] });
  const subscriptions = new Gauge({ name: 'graphql_ws_subscriptions', help: 'Active subscriptions over graphql-ws.', registers: [registry] });
  const statementSeconds = new Histogram({
    name: 'db_statement_duration_seconds',
    help: 'Duration of the SQL statements of the data path (connectors, response cache checks), by outcome (ok, error).',
    labelNames: ['outcome'] as const,
    buckets: EXECUTION_BUCKETS,
    registers: [registry],
  });
  const statementsInFlight = new Gauge({
    name: 'db_statements_in_flight',
    help: 'SQL statements of the data path running or waiting for a connection; compare with db_pool_connections_max.',
    registers: [registry],
  });
  const poolMax = new Gauge({ name: 'db_pool_connections_max', help: 'Connections the query pool may open (DATABASE_POOL_SIZE; 1 for the embedded database).', registers: [registry] });
  const providerRequests = new Counter({
    name: 'voice_provider_requests_total',
    help: 'HTTP requests to the speech and language provider by endpoint (chat/completions, audio/speech, audio/transcriptions), outcome (status code or network_error) and attempt (first or retry).',
    labelNames: ['endpoint', 'outcome', 'attempt'] as const,
    registers: [registry],
  });
  const voiceTurns = new Counter({ name: 'voice_turns_total', help: 'Voice turns by how they ended (status) and error code ("none" when none).', labelNames: ['status', 'code'] as const, registers: [registry] });
  const voiceStages = new Histogram({
    name: 'voice_stage_duration_seconds',
    help: 'Duration of each stage of completed voice turns: stt, agent, first_audio (start to first audio chunk), total.',
    labelNames: ['stage'] as const,
    buckets: VOICE_BUCKETS,
    registers: [registry],
  });

  // Operation names are chosen by clients: a bounded set of labels, so that a client cannot grow the registry forever.
  const names = new Set<string>();
  const operationLabel = (document: DocumentNode | undefined, operationName: string | null | undefined): { operation: string; type: string } => {
    const ast = document ? getOperationAST(document, operationName) : null;
    const name = ast?.name?.value ?? operationName ?? null;
    const type = ast?.operation ?? 'unknown';
    if (!name) return { operation: 'anonymous', type };
    if (names.has(name)) return { operation: name, type };
    if (names.size >= maxOperationNames || !OPERATION_NAME.test(name)) return { operation: 'other', type };
    names.add(name);
    return { operation: name, type };
  };
  const countErrors = (operation: string, result: ExecutionResult) => {
    for (const error of result.errors ?? []) errors.inc({ operation, code: String(error.extensions?.code ?? 'UNKNOWN') });
  };
  const paramsName = (context: unknown) => (context as { params?: { operationName?: string | null } }).params?.operationName;

  const plugin: Plugin<GraphQLContext> = {
    onParse: ({ context, params }) => ({ result }) => {
      if (result instanceof Error) {
        errors.inc({ operation: operationLabel(undefined, paramsName(context) ?? params.options?.operationName).operation, code: 'GRAPHQL_PARSE_FAILED' });
      }
    },
    onValidate: ({ params, context }) => ({ result }) => {
      if (!result.length) return;
      const { operation } = operationLabel(params.documentAST, paramsName(context));
      for (const error of result) errors.inc({ operation, code: String(error.extensions?.code ?? 'GRAPHQL_VALIDATION_FAILED') });
    },
    onExecute: ({ args }) => {
      const labels = operationLabel(args.document, args.operationName);
      operations.inc(labels);
      const started = performance.now();
      return {
        onExecuteDone: (payload) => {
          const result = payload.result;
          // Incremental delivery: time to the first payload is not the execution time; its errors are counted only.
          if (Symbol.asyncIterator in result) return handleStreamOrSingleExecutionResult(payload, ({ result: r }) => countErrors(labels.operation, r));
          const seconds = (performance.now() - started) / 1000;
          duration.observe(labels, seconds);
          countErrors(labels.operation, result);
          // One line per operation at debug level, through the request's logger (requestId and tenant).
          args.contextValue.log?.debug('graphql: executed', {
            operation: labels.operation,
            type: labels.type,
            ms: Math.round(seconds * 10_000) / 10,
            ...(result.errors?.length ? { errors: result.errors.map((e) => e.extensions?.code ?? 'UNKNOWN') } : {}),
          });
          return undefined;
        },
      };
    },
    onSubscribe: ({ args }) => {
      const labels = operationLabel(args.document, args.operationName);
      operations.inc(labels);
      return { onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, ({ result }) => countErrors(labels.operation, result)) };
    },
  };

  return {
    registry,
    plugin,
    ws: {
      socketOpened: () => sockets.inc(),
      socketClosed: () => sockets.dec(),
      subscriptionStarted: () => subscriptions.inc(),
      subscriptionEnded: () => subscriptions.dec(),
    },
    voice: {
      providerRequest({ endpoint, outcome, retry }) {
        // Endpoints come from our own SDK calls (a bounded set); anything else is counted as "other".
        const known = /^(chat\/completions|audio\/speech|audio\/transcriptions)$/.test(endpoint);
        providerRequests.inc({ endpoint: known ? endpoint : 'other', outcome: /^\d{3}$/.test(outcome) ? outcome : 'network_error', attempt: retry ? 'retry' : 'first' });
      },
      turnFinished(outcome) {
        voiceTurns.inc({ status: outcome.status, code: outcome.error?.code ?? 'none' });
        const t = outcome.timings;
        if (!t) return;
        if (t.sttMs != null) voiceStages.observe({ stage: 'stt' }, t.sttMs / 1000);
        if (t.agentMs != null) voiceStages.observe({ stage: 'agent' }, t.agentMs / 1000);
        if (t.firstAudioMs != null) voiceStages.observe({ stage: 'first_audio' }, t.firstAudioMs / 1000);
        voiceStages.observe({ stage: 'total' }, t.totalMs / 1000);
      },
    },
    database: {
      observeStatement() {
        statementsInFlight.inc();
        const stop = statementSeconds.startTimer();
        return (failed) => {
          statementsInFlight.dec();
          stop({ outcome: failed ? 'error' : 'ok' });
        };
      },
      poolSize: (connections) => poolMax.set(connections),
    },
    observeHttp(req, res) {
      const path = req.url?.split('?')[0] ?? '';
      const route = ROUTES.has(path) ? path : 'other';
      res.once('finish', () => httpRequests.inc({ route, status: String(res.statusCode) }));
    },
    async serve(res) {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) }).end(body);
    },
  };
}

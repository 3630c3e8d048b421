// Request limits as envelop plugins (so HTTP, graphql-ws and direct execution all pass them): graphql-armor's depth,
// alias, token, directive and cost limits, introspection refused and "Did you mean" suggestions hidden when
// introspection is off. Every refusal is a GraphQL error with an extensions.code (a client error, never a 500).
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { type ExecutionResult, GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext } from 'graphql';
import { type Plugin, handleStreamOrSingleExecutionResult } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/context';

export interface LimitOptions {
  /** Deepest selection one operation may have (each field and each fragment counts one level). */
  maxDepth?: number;
  maxAliases?: number;
  /** Tokens of the query text (names, punctuation, values), counted while it is parsed. */
  maxTokens?: number;
  maxDirectives?: number;
  /**
   * graphql-armor's cost: 1 per scalar field, 2 per object field plus 1.5× its children, the whole times `first`
   * when a field has a literal `first` (so nested pages multiply).
   */
  maxCost?: number;
  /** Largest request body, in bytes, on every HTTP path (yoga's, the response cache's, direct execution's). */
  maxRequestBodyBytes?: number;
  /** false: __schema and __type are refused and "Did you mean …" suggestions are hidden. */
  introspection?: boolean;
}

/**
 * The defaults config.ts starts from, measured on the product's queries: the deepest in the tests is 6 levels and
 * costs 1,700; GraphiQL's example costs 270; `tickets(first: 100)` with every field and its customer 6,200; 100
 * customers with 10 tickets each 96,000 (100 with 100 each: 930,000, refused).
 */
export const DEFAULT_LIMITS = {
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 2000,
  maxDirectives: 20,
  maxCost: 200_000,
  // voiceTurn carries up to 25 MB of audio as base64 (about 34 MB of JSON); the argument check names the 25 MB limit.
  maxRequestBodyBytes: 36 * 1024 * 1024,
  introspection: true,
} as const satisfies Required<LimitOptions>;

/** The code of every refusal here (as graphql-armor's Apollo plugin and Apollo's validation errors use). */
export const LIMIT_ERROR_CODE = 'GRAPHQL_VALIDATION_FAILED';

const SUGGESTION = / ?Did you mean [^?]*\?/g;
const HAS_SUGGESTION = /Did you mean /;

/** `error` without suggestions in its message when `hide`, and with a code when `code` and it has none. */
function refined(error: GraphQLError, hide: boolean, code: boolean): GraphQLError {
  const message = hide ? error.message.replace(SUGGESTION, ' [Suggestion hidden]') : error.message;
  if ((error.extensions?.code || !code) && message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, ...(code && { code: error.extensions?.code ?? LIMIT_ERROR_CODE }) },
  });
}

/**
 * Gives every validation error without a code one (graphql-js's rules and NoSchemaIntrospectionCustomRule set none)
 * and, when `hideSuggestions`, hides the suggestions that graphql-armor's field rule leaves ("Did you mean the enum
 * value …") and those of variable errors, which come from execution.
 */
function refineErrors(hideSuggestions: boolean): Plugin<GraphQLContext> {
  const refineResult = (result: ExecutionResult, setResult: (result: ExecutionResult) => void) => {
    // Codes are left to errors.ts here: these are execution's errors (variables), not validation's.
    if (result.errors?.some((error) => HAS_SUGGESTION.test(error.message))) setResult({ ...result, errors: result.errors.map((error) => refined(error, true, false)) });
  };
  return {
    onValidate: () => ({ valid, result, setResult }) => {
      if (!valid) setResult(result.map((error) => refined(error, hideSuggestions, true)));
    },
    ...(hideSuggestions && {
      onExecute: () => ({ onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => refineResult(result, setResult)) }),
      onSubscribe: () => ({ onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => refineResult(result, setResult)) }),
    }),
  };
}

/** Refuses __schema and __type (not __typename), as graphql-js's NoSchemaIntrospectionCustomRule words it. */
const refuseIntrospection: Plugin<GraphQLContext> = {
  onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
};

/**
 * yoga's own 413 (maxRequestBodySize, on its path) leaves the rest of the body unread and its socket is then
 * destroyed: saying `connection: close` keeps a client from sending its next request on that socket.
 */
const closeAfterTooLarge: Plugin<GraphQLContext> = {
  onResponse: ({ response }) => {
    if (response.status === 413) response.headers.set('connection', 'close');
  },
};

/**
 * Reports a rule's refusal as an ordinary validation error instead of throwing it out of validate(), without the
 * "Syntax Error: " graphql-armor puts before it (the query is well formed; it asks for too much).
 */
const report = (context: ValidationContext | null, error: GraphQLError) => {
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: LIMIT_ERROR_CODE } }));
};

/**
 * The plugins enforcing `options` (DEFAULT_LIMITS for what is left out). All but one act inside envelop, so every
 * transport passes them; the body size is enforced by yoga (maxRequestBodySize) and by readBody on the other paths.
 */
export function createLimitPlugins(options: LimitOptions = {}): Plugin<GraphQLContext>[] {
  const limits = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) };
  // graphql-armor's rules throw by default, which graphql-ws's onSubscribe would turn into a closed socket.
  const rule = { propagateOnRejection: false, onReject: [report] };
  const armor = new EnvelopArmor<GraphQLContext>({
    maxDepth: { n: limits.maxDepth, ...rule },
    maxAliases: { n: limits.maxAliases, ...rule },
    maxDirectives: { n: limits.maxDirectives, ...rule },
    costLimit: { maxCost: limits.maxCost, ...rule },
    // The parser stops at the limit by throwing (a syntax error, nothing to report to); the error gets its code here.
    maxTokens: {
      n: limits.maxTokens,
      onReject: [(_context: ValidationContext | null, error: GraphQLError) => Object.assign(error.extensions as Record<string, unknown>, { code: LIMIT_ERROR_CODE })],
    },
    blockFieldSuggestion: { enabled: !limits.introspection },
  });
  return [
    ...(limits.introspection ? [] : [refuseIntrospection]),
    ...(armor.protect().plugins as Plugin<GraphQLContext>[]),
    refineErrors(!limits.introspection),
    closeAfterTooLarge,
  ];
}

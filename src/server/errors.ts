// Error policy for every GraphQL response: every error has extensions.code. User errors pass through (UserInputError
// from any layer, and GraphQL's own uncoded variable and argument errors, become BAD_USER_INPUT); anything unexpected
// is logged with the request id and replaced by a message without internals.
import { type MaskError, type Plugin, handleStreamOrSingleExecutionResult, maskError as yogaMaskError } from 'graphql-yoga';
import { type ExecutionResult, GraphQLError } from 'graphql';
import { isDatabaseUnavailable } from '../db/errors';
import { UnavailableError, UserInputError } from '../errors';
import type { GraphQLContext } from '../schema/context';
import type { Logger } from '../logger';

/**
 * What the client did wrong, when GraphQL itself said so without a code (yoga codes parse and validation errors itself):
 * a request error with no path (variable coercion: missing, null or wrong-typed variables, an unknown enum value), or
 * a field argument GraphQL could not coerce (its error points at the request's own text). False when it is not that.
 */
function uncodedUserError(error: GraphQLError): boolean {
  if (error.extensions?.code) return false;
  const original = error.originalError;
  if (original && !(original instanceof GraphQLError)) return false;
  return !error.path || !original || !!original.nodes?.length;
}

/**
 * Passed through as they are: errors that carry a code (thrown on purpose for the user, or coded by yoga). A GraphQLError
 * with neither a code nor a place in the request (an output value its type cannot serialize, a library's own error)
 * is unexpected and masked like any other.
 */
function isExpected(error: GraphQLError): boolean {
  return (!error.originalError || error.originalError instanceof GraphQLError) && error.extensions?.code != null;
}

/**
 * SERVICE_UNAVAILABLE for an error that means "retry later" (the database or Redis unreachable), with HTTP 503 and a
 * retry hint (yoga reads extensions.http and strips it from the body); null for any other error.
 */
function unavailableError(original: unknown, at?: GraphQLError): GraphQLError | null {
  let message: string;
  if (original instanceof UnavailableError) message = original.message;
  else if (isDatabaseUnavailable(original)) message = 'The database is unavailable for a moment; retry shortly.';
  else return null;
  return new GraphQLError(message, {
    nodes: at?.nodes,
    path: at?.path,
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '5' } } },
  });
}

/**
 * yoga's last net (its `maskedErrors.maskError`), for errors our plugin never sees, such as one thrown by a
 * subscription's event stream after it started: "retry later" errors keep their code; the rest is yoga's masking.
 */
export const maskError: MaskError = (error, message, isDev) => {
  const original = error instanceof GraphQLError ? error.originalError : error;
  return unavailableError(original, error instanceof GraphQLError ? error : undefined) ?? yogaMaskError(error, message, isDev);
};

export function maskUnexpectedErrors(log: Logger): Plugin<GraphQLContext> {
  const mask = (result: ExecutionResult, context: GraphQLContext) => {
    if (!result.errors?.length) return undefined;
    let changed = false;
    const errors = result.errors.map((error) => {
      if (error.originalError instanceof UserInputError) {
        changed = true;
        const { argument } = error.originalError;
        return new GraphQLError(error.message, {
          nodes: error.nodes,
          path: error.path,
          extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}) },
        });
      }
      if (uncodedUserError(error)) {
        changed = true;
        // Keep the other extensions: yoga reads extensions.http (status 400 for a request error) before it answers.
        return new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          originalError: error.originalError,
          extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
        });
      }
      if (isExpected(error)) return error;
      changed = true;
      const original = error.originalError ?? error;
      const unavailable = unavailableError(original, error);
      if (unavailable) {
        // The request's own logger (requestId and tenant on every line) when the context has one.
        (context.log ?? log).warn('dependency unavailable', { requestId: context.requestId, path: error.path?.join('.'), error: original.message });
        return unavailable;
      }
      (context.log ?? log).error('internal error', {
        requestId: context.requestId,
        path: error.path?.join('.'),
        error: original.message,
        stack: original.stack,
      });
      return new GraphQLError(`Internal server error (request ${context.requestId}); it has been logged.`, {
        nodes: error.nodes,
        path: error.path,
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: context.requestId },
      });
    });
    return changed ? { ...result, errors } : undefined;
  };
  return {
    // yoga codes a syntax error only when there is an HTTP request; graphql-ws has none, so code it for every transport.
    onParse: () => ({ result }) => {
      if (result instanceof GraphQLError && !result.extensions.code) {
        (result.extensions as Record<string, unknown>).code = 'GRAPHQL_PARSE_FAILED';
      }
    },
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) =>
        handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
          const masked = mask(result, args.contextValue);
          if (masked) setResult(masked);
        }),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: (payload) =>
        handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
          const masked = mask(result, args.contextValue);
          if (masked) setResult(masked);
        }),
    }),
  };
}

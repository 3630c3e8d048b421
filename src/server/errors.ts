// Error policy for every GraphQL response: every error has extensions.code. User errors pass through (UserInputError
// from any layer, and GraphQL's own uncoded variable and argument errors, become BAD_USER_INPUT); anything unexpected
// is logged with the request id and replaced by a message without internals.
import { type Plugin, handleStreamOrSingleExecutionResult } from 'graphql-yoga';
import { type ExecutionResult, GraphQLError } from 'graphql';
import { UserInputError } from '../errors';
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
      log.error('internal error', {
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

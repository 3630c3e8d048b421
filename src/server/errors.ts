// Error policy for every GraphQL response: user errors pass through (UserInputError from any layer becomes
// BAD_USER_INPUT); anything unexpected is logged with the request id and replaced by a message without internals.
import { type Plugin, handleStreamOrSingleExecutionResult } from 'graphql-yoga';
import { type ExecutionResult, GraphQLError } from 'graphql';
import { UserInputError } from '../errors';
import type { GraphQLContext } from './context';
import type { Logger } from './logger';

/** No original error: GraphQL's own (validation, coercion). A GraphQLError original: thrown on purpose for the user. */
function isExpected(error: GraphQLError): boolean {
  return !error.originalError || error.originalError instanceof GraphQLError;
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

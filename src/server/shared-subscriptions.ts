// An envelop plugin that executes a subscription event once per distinct operation instead of once per subscriber.
// It applies to root subscription fields that declare `extensions: { [SHARED_EVENT_RESULTS]: true }`: their events are
// immutable objects shared by every subscriber (the voice event log), and the result of an event depends only on the
// event, the schema, the document, the operation name, the variables and the tenant, which together are the key.
// Every subscriber still reads its own source stream (its own replay from the first event, order, completion, errors),
// and every envelop hook after execution (error masking) still runs per subscriber. Results with errors are not shared.
import { buildExecutionContext, execute } from '@graphql-tools/executor';
import {
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  createSourceEventStream,
  getOperationAST,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type GraphQLContext, SHARED_EVENT_RESULTS } from '../schema/context';

type Result = ExecutionResult | Promise<ExecutionResult>;
type SubscribeFn = (args: ExecutionArgs) => unknown;

/** The root field of a subscription operation when it is one plain field that opted in; else null. */
function sharedOperation(args: ExecutionArgs): OperationDefinitionNode | null {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== 'subscription') return null;
  // @defer/@stream would make incremental results, which are not one plain result per event.
  if (args.schema.getDirective('defer') || args.schema.getDirective('stream')) return null;
  const [selection, ...others] = operation.selectionSet.selections;
  // Fragments or @skip/@include at the root: rare, and not worth reproducing field collection for.
  if (others.length || selection?.kind !== Kind.FIELD || selection.directives?.length) return null;
  const field = args.schema.getSubscriptionType()?.getFields()[selection.name.value];
  return field?.extensions?.[SHARED_EVENT_RESULTS] === true ? operation : null;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

export function shareSubscriptionResults(): Plugin<GraphQLContext> {
  // Small ids for schema and document objects, so a key is a short string; weak, so nothing here outlives them.
  const ids = new WeakMap<object, number>();
  let nextId = 0;
  const idOf = (object: object) => {
    let id = ids.get(object);
    if (id === undefined) ids.set(object, (id = ++nextId));
    return id;
  };
  // Per event object, its results by operation key; dropped with the event when the log lets it go.
  const results = new WeakMap<object, Map<string, Result>>();

  function resultFor(event: unknown, key: string, args: ExecutionArgs): Result {
    const run = () => execute({ ...args, rootValue: event }) as Result;
    if (typeof event !== 'object' || event === null) return run();
    let byKey = results.get(event);
    if (!byKey) results.set(event, (byKey = new Map()));
    const known = byKey.get(key);
    if (known) return known;
    const result = run();
    const shared = byKey;
    const keepIfClean = (r: ExecutionResult) => {
      // Errors may be masked per subscriber (request ids); incremental results are not plain results.
      if (r.errors?.length || 'initialResult' in r) shared.delete(key);
      return r;
    };
    if (result instanceof Promise) {
      const settled = result.then(keepIfClean, (error: unknown) => {
        shared.delete(key);
        throw error;
      });
      shared.set(key, settled);
      return settled;
    }
    shared.set(key, result);
    return keepIfClean(result);
  }

  async function subscribeShared(args: ExecutionArgs, operation: OperationDefinitionNode, engine: SubscribeFn): Promise<unknown> {
    // Argument and variable errors: the engine reports them (with its codes), exactly as without this plugin.
    if (Array.isArray(buildExecutionContext(args))) return engine(args);
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const tenant = (args.contextValue as GraphQLContext).tenantId;
    const key = [idOf(args.schema), idOf(args.document), args.operationName ?? '', tenant, JSON.stringify(args.variableValues ?? {})].join('\u0000');
    return mapEvents(stream[Symbol.asyncIterator](), (event) => resultFor(event, key, args), operation);
  }

  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const operation = sharedOperation(args);
      // An abort signal (request cancellation) is the engine's to honour.
      if (!operation || (args as { signal?: unknown }).signal) return;
      const engine = subscribeFn as SubscribeFn;
      setSubscribeFn(((a: ExecutionArgs) => subscribeShared(a, operation, engine)) as typeof subscribeFn);
    },
  };
}

/**
 * Each source event mapped to its result, one at a time, as the engine's subscribe does: returning the iterator
 * returns the source at once (even while it waits for an event), and an error of the source ends it as a GraphQLError.
 */
function mapEvents(source: AsyncIterator<unknown>, map: (event: unknown) => Result, operation: OperationDefinitionNode): AsyncIterableIterator<ExecutionResult> {
  const closeThen = (error: unknown): Promise<never> => {
    const rethrow = () => {
      throw error;
    };
    return source.return ? source.return().then(rethrow, rethrow) : Promise.reject(error);
  };
  const onStep = (step: IteratorResult<unknown>): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
    if (step.done) return step;
    let result: Result;
    try {
      result = map(step.value);
    } catch (error) {
      return closeThen(error);
    }
    return result instanceof Promise ? result.then((value) => ({ done: false, value }), closeThen) : { done: false, value: result };
  };
  const onError = (error: unknown) => closeThen(new GraphQLError((error as Error).message, { originalError: error as Error, nodes: [operation] }));
  const done = (): IteratorResult<ExecutionResult> => ({ done: true, value: undefined });
  return {
    next: () => source.next().then(onStep, onError),
    return: () => (source.return ? source.return().then(done) : Promise.resolve(done())),
    throw: (error: unknown) => (source.throw ? source.throw(error).then(onStep, onError) : closeThen(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

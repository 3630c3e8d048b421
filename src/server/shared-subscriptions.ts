// An envelop plugin that executes a subscription event once per distinct operation instead of once per subscriber.
// It applies to root subscription fields that declare `extensions: { [SHARED_EVENT_RESULTS]: true }`: their events are
// immutable objects shared by every subscriber (the voice event log), and the result of an event depends only on the
// event, the schema, the document, the operation name, the variables and the tenant, which together are the key.
// Every subscriber still reads its own source stream (its own replay from the first event, order, completion, errors),
// and every envelop hook after execution (error masking) still runs per subscriber. Results with errors are not shared.
//
// A transport may also deliver an operation's clean results itself (deliverDirectly; ws.ts does, so that an event is
// serialised once and written to every socket as the same payload). A clean result then goes from this plugin straight
// to the transport's sender instead of through the per-result hooks and graphql-ws, in the same order as every other
// result of the stream: results with errors, the end and source errors still take the usual way, one at a time. The
// per-result hooks only act on results with errors; that they pass a clean result through unchanged is checked on each
// subscription's first clean result, which takes the usual way (a plugin that changes it keeps the subscription there).
// Such a fan-out allocates next to nothing per subscriber and event: subscribers waiting on the same asynchronous
// execution share one promise reaction, and a source offering tryNext/onReady is read without a promise per event.
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

/** Writes one clean result to the subscriber; a promise while its socket is backed up (the next event waits for it). */
export type DirectSend = (result: ExecutionResult) => void | Promise<void>;

interface DirectDelivery {
  send: DirectSend;
  /** Whether clean results may skip the per-result hooks: null until the first one came out of them (unchanged: true). */
  direct: boolean | null;
  /** The clean result now travelling the per-result hooks, to compare with what the transport receives. */
  probe: ExecutionResult | null;
}

/** Where a transport's delivery travels on the operation's context object, from its onSubscribe to this plugin. */
const DIRECT_DELIVERY = Symbol('shared-subscriptions.directDelivery');
type WithDelivery = { [DIRECT_DELIVERY]?: DirectDelivery };

/**
 * Lets a transport send this operation's clean results itself (call it with the operation's context before subscribing).
 * It applies only when the operation is shared (see above); the transport must then call `delivered` with every result
 * the per-result hooks hand it.
 */
export function deliverDirectly(contextValue: object, send: DirectSend): void {
  (contextValue as WithDelivery)[DIRECT_DELIVERY] = { send, direct: null, probe: null };
}

/** The transport saw this result come out of the per-result hooks (graphql-ws's onNext). */
export function delivered(contextValue: unknown, result: unknown): void {
  const delivery = (contextValue as WithDelivery | null)?.[DIRECT_DELIVERY];
  if (!delivery?.probe) return;
  delivery.direct = result === delivery.probe;
  delivery.probe = null;
}

/** A result no per-result hook acts on: no errors, not incremental. */
const isClean = (result: ExecutionResult) => !result.errors?.length && !('initialResult' in result);

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
  const pumping: PumpDeps = { whenReady: createReadyQueue(), whenSettled: createSettledQueue() };

  // Called for every subscriber and event: the shared case allocates nothing.
  function resultFor(event: unknown, key: string, args: ExecutionArgs): Result {
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event }) as Result;
    let byKey = results.get(event);
    if (!byKey) results.set(event, (byKey = new Map()));
    const known = byKey.get(key);
    if (known) return known;
    const result = execute({ ...args, rootValue: event }) as Result;
    const shared = byKey;
    const keepIfClean = (r: ExecutionResult) => {
      // Errors may be masked per subscriber (request ids); incremental results are not plain results.
      if (!isClean(r)) shared.delete(key);
      return r;
    };
    if (result instanceof Promise) {
      // Execution is asynchronous here (plugin-zod validates the arguments again, asynchronously, for every event):
      // once settled, later subscribers get the result itself, not a promise.
      const settled = result.then(
        (r) => {
          if (shared.get(key) === settled) shared.set(key, r);
          return keepIfClean(r);
        },
        (error: unknown) => {
          shared.delete(key);
          throw error;
        },
      );
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
    const map = (event: unknown) => resultFor(event, key, args);
    const delivery = (args.contextValue as WithDelivery | null)?.[DIRECT_DELIVERY];
    const source = stream[Symbol.asyncIterator]();
    return delivery ? pumpEvents(source, map, operation, delivery, pumping) : mapEvents(source, map, operation);
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

/**
 * A source that can also be read without a promise per event (the voice event log's subscriptions may offer it):
 * `tryNext` returns the next step when there is one now and null when there is none yet; `onReady` calls back once
 * when there may be one (or the source has ended). Without it, a source is read through `next()`.
 */
interface SyncReadable {
  tryNext(): IteratorResult<unknown> | null;
  onReady(callback: () => void): void;
}

function syncReadable(source: AsyncIterator<unknown>): SyncReadable | null {
  const candidate = source as Partial<SyncReadable>;
  return typeof candidate.tryNext === 'function' && typeof candidate.onReady === 'function' ? (candidate as SyncReadable) : null;
}

/**
 * Runs the readers that became ready together, in the order they were woken, in one microtask: a source's onReady
 * callback runs inside its writer's append, which stays cheap, and a fan-out costs no microtask per subscriber.
 */
function createReadyQueue(): (read: () => void) => void {
  let queue: (() => void)[] = [];
  const drain = () => {
    const ready = queue;
    queue = [];
    for (const read of ready) read();
  };
  return (read) => {
    if (queue.push(read) === 1) queueMicrotask(drain);
  };
}

/**
 * Calls back when a result promise settles: every subscriber waiting on the same shared result shares one reaction
 * (called in the order they asked), instead of a promise of its own.
 */
function createSettledQueue(): (promise: Promise<ExecutionResult>, onResult: (result: ExecutionResult) => void, onError: (error: unknown) => void) => void {
  type Waiters = { onResult: ((result: ExecutionResult) => void)[]; onError: ((error: unknown) => void)[] };
  const waiting = new WeakMap<Promise<ExecutionResult>, Waiters>();
  return (promise, onResult, onError) => {
    let waiters = waiting.get(promise);
    if (!waiters) {
      const these: Waiters = (waiters = { onResult: [], onError: [] });
      waiting.set(promise, these);
      promise.then(
        (result) => {
          waiting.delete(promise);
          for (const callback of these.onResult) callback(result);
        },
        (error: unknown) => {
          waiting.delete(promise);
          for (const callback of these.onError) callback(error);
        },
      );
    }
    waiters.onResult.push(onResult);
    waiters.onError.push(onError);
  };
}

interface PumpDeps {
  whenReady: ReturnType<typeof createReadyQueue>;
  whenSettled: ReturnType<typeof createSettledQueue>;
}

/**
 * mapEvents for a subscriber whose transport delivers clean results itself: while the consumer (graphql-ws, through
 * the per-result hooks) waits for its next result, events are mapped one at a time and each clean result is handed to
 * the transport's sender, which may make the next event wait (backpressure); a result with errors, the probe, the end
 * and a source error answer the waiting consumer instead, and nothing more is read until it asks again. So every result
 * leaves in source order, and returning the iterator stops it at once. A source that offers tryNext/onReady is read
 * in a loop without a promise per event.
 */
function pumpEvents(
  source: AsyncIterator<unknown>,
  map: (event: unknown) => Result,
  operation: OperationDefinitionNode,
  delivery: DirectDelivery,
  { whenReady, whenSettled }: PumpDeps,
): AsyncIterableIterator<ExecutionResult> {
  const sync = syncReadable(source);
  let ended = false;
  /** While the loop in read() runs: a delivery inside it does not start another read, the loop goes on. */
  let reading = false;
  /** Set when the current event goes on later (a promised result, a backed-up socket): the loop stops. */
  let suspended = false;
  let consumer: { resolve: (step: IteratorResult<ExecutionResult>) => void; reject: (error: unknown) => void } | null = null;
  const done = (): IteratorResult<ExecutionResult> => ({ done: true, value: undefined });
  const answer = (step: IteratorResult<ExecutionResult>) => {
    const waiting = consumer;
    consumer = null;
    waiting?.resolve(step);
  };
  // As mapEvents: the source is returned, then the consumer gets the error.
  const closeThen = (error: unknown) => {
    ended = true;
    const rethrow = () => {
      const waiting = consumer;
      consumer = null;
      waiting?.reject(error);
    };
    if (source.return) source.return().then(rethrow, rethrow);
    else rethrow();
  };
  const onResult = (result: ExecutionResult) => {
    if (ended) return;
    if (!isClean(result)) return answer({ done: false, value: result });
    if (delivery.direct) {
      let sending: void | Promise<void>;
      try {
        sending = delivery.send(result);
      } catch (error) {
        return closeThen(error);
      }
      if (sending) {
        suspended = true;
        sending.then(read, closeThen);
      } else read();
      return;
    }
    if (delivery.direct === null) delivery.probe = result;
    answer({ done: false, value: result });
  };
  const onStep = (step: IteratorResult<unknown>) => {
    if (ended) return;
    if (step.done) {
      ended = true;
      return answer(done());
    }
    let result: Result;
    try {
      result = map(step.value);
    } catch (error) {
      return closeThen(error);
    }
    if (result instanceof Promise) {
      suspended = true;
      whenSettled(result, onResult, closeThen);
    } else onResult(result);
  };
  const onError = (error: unknown) => closeThen(new GraphQLError((error as Error).message, { originalError: error as Error, nodes: [operation] }));
  const wake = () => whenReady(read);
  function read() {
    if (ended || reading) return;
    if (!sync) return void source.next().then(onStep, onError);
    reading = true;
    try {
      while (!ended && consumer) {
        const step = sync.tryNext();
        if (!step) return sync.onReady(wake);
        suspended = false;
        onStep(step);
        if (suspended) return;
      }
    } catch (error) {
      // Never into the source's writer (onReady runs in its append): the stream ends with the error instead.
      onError(error);
    } finally {
      reading = false;
    }
  }
  return {
    next() {
      if (ended) return Promise.resolve(done());
      return new Promise((resolve, reject) => {
        consumer = { resolve, reject };
        read();
      });
    },
    return() {
      ended = true;
      answer(done());
      return source.return ? source.return().then(done) : Promise.resolve(done());
    },
    throw(error: unknown) {
      ended = true;
      answer(done());
      const rethrow = (): never => {
        throw error;
      };
      return source.return ? source.return().then(rethrow, rethrow) : Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

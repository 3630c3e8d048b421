// Compiled execution of queries (graphql-jit, through its public compileQuery): a query document that has been run a
// few times is compiled once into plain code that calls the same resolvers, and later runs take that code instead of
// graphql-js's interpreted executor (bench/README.md: 10-20 % fewer instructions per request on the benchmark's
// questions, in callgrind counts later found to move by up to 30 % run to run). Mutations, subscriptions and
// documents jit cannot compile keep the standard executor.
// Answers stay those of graphql-js, which the tests check side by side:
// - variables are coerced by graphql-js first; when that fails, the standard executor answers (and words the error);
// - a variable left out that has a default gets it (graphql-jit would refuse a non-null one);
// - jit's errors become graphql-js GraphQLErrors with the same field nodes, path and originalError; an error jit makes
//   itself (a null in a non-null field, a value its type cannot serialize) gets an originalError as graphql-js gives
//   one, so the error policy (errors.ts) masks it as unexpected in both.
import {
  type ASTNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  getOperationAST,
  getVariableValues,
  valueFromASTUntyped,
  visit,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/context';

export interface CompiledQueriesOptions {
  /** Runs of a document before it is compiled (compiling costs milliseconds; a document run once should not pay it). */
  after?: number;
  /** Told of each compilation: the operation's name, how long it took, and whether jit could compile it. */
  onCompile?: (compilation: { operationName: string | null; ms: number; compiled: boolean }) => void;
}

/** The app's setting for COMPILE_QUERIES_AFTER: compile after that many runs; 0 turns compiling off. */
export function compiledQueriesAfter(runs: number): CompiledQueriesOptions | false {
  return runs > 0 ? { after: runs } : false;
}

/** The runs of one document so far, and its compiled form once made (null: jit cannot compile it). */
interface Entry {
  runs: number;
  compiled?: CompiledQuery | null;
}

/** What graphql-jit puts in `errors`: its own error class, with locations rather than AST nodes. */
interface JitError {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  originalError?: Error;
  extensions?: Record<string, unknown>;
}

/**
 * The document's nodes at the error's locations, the outermost at each: the field's nodes for an error of a field (as
 * graphql-js gives them), an argument's value for an argument jit refused at run time.
 */
function nodesAt(document: DocumentNode, locations: JitError['locations']): ASTNode[] {
  const body = document.loc?.source.body;
  if (!body || !locations?.length) return [];
  const lines = body.split('\n');
  const offsets = new Set(locations.map(({ line, column }) => lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0) + column - 1));
  const found = new Map<number, ASTNode>();
  visit(document, {
    enter(node) {
      if (node.kind !== Kind.NAME && node.loc && offsets.has(node.loc.start) && !found.has(node.loc.start)) found.set(node.loc.start, node);
    },
  });
  return [...found.values()];
}

/** A graphql-js GraphQLError for one of jit's (its own class, which inherits graphql-js's prototype but has no nodes). */
function asGraphQLError(error: JitError, document: DocumentNode): GraphQLError {
  const thrown = error.originalError;
  // As graphql-js's locatedError: a GraphQLError thrown with nodes of its own keeps them.
  if (thrown instanceof GraphQLError && thrown.nodes?.length) {
    return new GraphQLError(error.message, { nodes: thrown.nodes, source: thrown.source, positions: thrown.positions, path: error.path, originalError: thrown });
  }
  const nodes = nodesAt(document, error.locations);
  // What jit says itself: about an argument's value (graphql-js throws a GraphQLError at that value: the client's
  // mistake), or about a field (a null in a non-null field, a value its type cannot serialize: graphql-js starts
  // from a plain Error, which the error policy masks).
  const aboutArgument = nodes.length > 0 && nodes.every((node) => node.kind !== Kind.FIELD);
  return new GraphQLError(error.message, {
    nodes: nodes.length ? nodes : undefined,
    path: error.path,
    originalError: thrown ?? (aboutArgument ? new GraphQLError(error.message, { nodes }) : new Error(error.message)),
    extensions: error.extensions,
  });
}

/** The request's variables with the operation's defaults for the ones left out (as graphql-js applies them). */
function withDefaults(operation: OperationDefinitionNode, given: Record<string, unknown>): Record<string, unknown> {
  let variables = given;
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (definition.defaultValue && given[name] === undefined) {
      if (variables === given) variables = { ...given };
      variables[name] = valueFromASTUntyped(definition.defaultValue);
    }
  }
  return variables;
}

export function compiledQueries({ after = 2, onCompile }: CompiledQueriesOptions = {}): Plugin<GraphQLContext> {
  // Per parsed document (yoga's parse cache hands the same object back for the same text) and operation name.
  const entries = new WeakMap<DocumentNode, Map<string, Entry>>();

  function compiledFor(args: ExecutionArgs, operation: OperationDefinitionNode): CompiledQuery | null {
    let byName = entries.get(args.document);
    if (!byName) entries.set(args.document, (byName = new Map()));
    const name = args.operationName ?? '';
    let entry = byName.get(name);
    if (!entry) byName.set(name, (entry = { runs: 0 }));
    if (entry.compiled !== undefined) return entry.compiled;
    if (++entry.runs < after) return null;
    const started = performance.now();
    const compiled = compileQuery(args.schema, args.document, operation.name?.value);
    entry.compiled = isCompiledQuery(compiled) ? compiled : null;
    onCompile?.({ operationName: operation.name?.value ?? null, ms: performance.now() - started, compiled: entry.compiled !== null });
    return entry.compiled;
  }

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'query') return;
      const compiled = compiledFor(args, operation);
      if (!compiled) return;
      setExecuteFn(async (executeArgs) => {
        const given = (executeArgs.variableValues ?? {}) as Record<string, unknown>;
        const coerced = getVariableValues(executeArgs.schema, operation.variableDefinitions ?? [], given);
        if (coerced.errors) return executeFn(executeArgs);
        const result = (await compiled.query(executeArgs.rootValue, executeArgs.contextValue, withDefaults(operation, given))) as ExecutionResult;
        // No data at all: jit refused the variables graphql-js accepted; graphql-js answers instead.
        if (!('data' in result)) return executeFn(executeArgs);
        if (!result.errors?.length) return { data: result.data };
        // graphql-js's shape and key order: errors, then data.
        return { errors: result.errors.map((error) => asGraphQLError(error as JitError, executeArgs.document)), data: result.data };
      });
    },
  };
}

// An allow-list of operations (like Hasura's): read from .graphql files or a persisted-documents JSON manifest; in
// strict mode only operations on the list run, otherwise the others run and are logged once each (to build the list).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { type DocumentNode, type FragmentDefinitionNode, GraphQLError, Kind, type OperationDefinitionNode, parse, print, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/context';
import type { Logger } from '../logger';

export interface AllowListOptions {
  /** A .graphql file, a directory of them, or a JSON manifest ({ id: document } or [document]). */
  path: string;
  /** Only listed operations run (true), or every operation runs and unlisted ones are logged (false). */
  strict: boolean;
  log: Logger;
}

/** Documents in a canonical print, so that formatting and comments do not matter. */
const canonical = (document: DocumentNode) => print(document);

/** Each operation of a document with just the fragments it spreads (transitively), as a client sends it. */
function operationsOf(document: DocumentNode): DocumentNode[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operations.map((operation) => {
    const used = new Map<string, FragmentDefinitionNode>();
    const walk = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          const fragment = fragments.get(spread.name.value);
          if (fragment && !used.has(fragment.name.value)) {
            used.set(fragment.name.value, fragment);
            walk(fragment);
          }
        },
      });
    walk(operation);
    return { kind: Kind.DOCUMENT, definitions: [operation, ...used.values()] };
  });
}

function readDocuments(path: string): string[] {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((name) => ['.graphql', '.gql', '.json'].includes(extname(name)))
      .sort()
      .flatMap((name) => readDocuments(join(path, name)));
  }
  const text = readFileSync(path, 'utf8');
  if (extname(path) !== '.json') return [text];
  const manifest = JSON.parse(text) as unknown;
  const values = Array.isArray(manifest) ? manifest : Object.values(manifest as Record<string, unknown>);
  if (!values.every((v): v is string => typeof v === 'string')) throw new Error(`${path}: a manifest is { "id": "query …" } or ["query …"]`);
  return values;
}

/** The canonical texts a request's document may have: each whole file, and each operation with its fragments. */
export function loadAllowList(path: string): Set<string> {
  const allowed = new Set<string>();
  for (const text of readDocuments(path)) {
    let document: DocumentNode;
    try {
      document = parse(text);
    } catch (error) {
      throw new Error(`operations allow-list ${path}: ${(error as Error).message}`);
    }
    allowed.add(canonical(document));
    for (const operation of operationsOf(document)) allowed.add(canonical(operation));
  }
  return allowed;
}

/** Envelop plugin: runs on every transport (HTTP, SSE, graphql-ws) after parsing, before execution. */
export function useOperationAllowList(options: AllowListOptions): Plugin<GraphQLContext> {
  const allowed = loadAllowList(options.path);
  // yoga's parser cache hands out one DocumentNode per query text, so a verdict is computed once per text.
  const verdicts = new WeakMap<DocumentNode, boolean>();
  const logged = new Set<string>();
  const check = (document: DocumentNode) => {
    let ok = verdicts.get(document);
    if (ok === undefined) {
      const text = canonical(document);
      ok = allowed.has(text);
      verdicts.set(document, ok);
      if (!ok && !options.strict && logged.size < 1000 && !logged.has(text)) {
        logged.add(text);
        options.log.warn('operation not on the allow-list (runs: OPERATIONS_STRICT is off)', { document: text.slice(0, 2000) });
      }
    }
    return ok || !options.strict;
  };
  const refused = () => ({
    errors: [new GraphQLError('This operation is not on the server\'s allow-list of operations.', { extensions: { code: 'OPERATION_NOT_ALLOWED' } })],
  });
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (!check(args.document)) setResultAndStopExecution(refused());
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (!check(args.document)) setResultAndStopExecution(refused());
    },
  };
}

// `npm run codegen`: typed documents for the operations in examples/*.graphql (GraphQL Code Generator, client
// preset), and what the normalised caches need to match fragments on the interfaces (Node, VoiceEvent): the
// possibleTypes map for Apollo's InMemoryCache and a minified schema for urql's Graphcache (schema awareness). Reads
// the committed schema.graphql only (no server, no network): run `npm run schema:print` first after changing types.
// test/codegen.test.ts fails when the committed output is out of date.
import type { CodegenConfig } from '@graphql-codegen/cli';
import type { CodegenPlugin } from '@graphql-codegen/plugin-helpers';
import {
  type GraphQLSchema,
  type IntrospectionInterfaceType,
  type IntrospectionObjectType,
  type IntrospectionType,
  type IntrospectionTypeRef,
  type IntrospectionUnionType,
  introspectionFromSchema,
  isAbstractType,
} from 'graphql';

export const GENERATED_DIR = 'examples/generated/';

/**
 * A small local plugin (instead of @graphql-codegen/fragment-matcher, which is not installed): every interface and
 * union with the object types that implement it, sorted, in the `possibleTypes` shape Apollo's InMemoryCache takes.
 */
export const possibleTypesPlugin: CodegenPlugin = {
  plugin(schema: GraphQLSchema) {
    const possibleTypes: Record<string, string[]> = {};
    for (const type of Object.values(schema.getTypeMap()).sort((a, b) => a.name.localeCompare(b.name))) {
      if (type.name.startsWith('__') || !isAbstractType(type)) continue;
      possibleTypes[type.name] = schema
        .getPossibleTypes(type)
        .map((t) => t.name)
        .sort();
    }
    return [
      '/** Interfaces and unions with their object types, for Apollo: `new InMemoryCache({ possibleTypes })` (urql Graphcache: use introspection.ts). */',
      `export const possibleTypes: Record<string, string[]> = ${JSON.stringify(possibleTypes, null, 2)};`,
      '',
    ].join('\n');
  },
};

/** A type reference without the nulls introspection pads it with. */
function typeRef(ref: IntrospectionTypeRef): unknown {
  return ref.kind === 'LIST' || ref.kind === 'NON_NULL' ? { kind: ref.kind, ofType: typeRef(ref.ofType) } : { kind: ref.kind, name: ref.name };
}

/**
 * The schema as urql's Graphcache reads it (`cacheExchange({ schema })`): object, interface and union types with
 * their fields' types and arguments, interfaces and possible types; no descriptions, directives, enums or inputs
 * (what @urql/introspection's minifyIntrospectionQuery keeps, without installing it). One type per line.
 */
export const urqlIntrospectionPlugin: CodegenPlugin = {
  plugin(schema: GraphQLSchema) {
    const { __schema: full } = introspectionFromSchema(schema, { descriptions: false });
    const types = full.types
      .filter(
        (t: IntrospectionType): t is IntrospectionObjectType | IntrospectionInterfaceType | IntrospectionUnionType =>
          !t.name.startsWith('__') && (t.kind === 'OBJECT' || t.kind === 'INTERFACE' || t.kind === 'UNION'),
      )
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) =>
        t.kind === 'UNION'
          ? { kind: t.kind, name: t.name, possibleTypes: t.possibleTypes.map((p) => ({ kind: p.kind, name: p.name })) }
          : {
              kind: t.kind,
              name: t.name,
              fields: t.fields.map((f) => ({ name: f.name, type: typeRef(f.type), args: f.args.map((a) => ({ name: a.name, type: typeRef(a.type) })) })),
              interfaces: t.interfaces.map((i) => ({ kind: i.kind, name: i.name })),
            },
      );
    const root = (r: { name: string } | null | undefined) => (r ? JSON.stringify({ name: r.name }) : 'null');
    return [
      '/** The schema for urql Graphcache: `cacheExchange({ schema: introspection })` (fragment matching on interfaces, schema awareness). */',
      'export const introspection = {',
      '  __schema: {',
      `    queryType: ${root(full.queryType)},`,
      `    mutationType: ${root(full.mutationType)},`,
      `    subscriptionType: ${root(full.subscriptionType)},`,
      '    types: [',
      ...types.map((t) => `      ${JSON.stringify(t)},`),
      '    ],',
      '  },',
      '};',
      '',
    ].join('\n');
  },
};

const localPlugins: Record<string, CodegenPlugin> = { 'possible-types': possibleTypesPlugin, 'urql-introspection': urqlIntrospectionPlugin };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['examples/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    [GENERATED_DIR]: {
      preset: 'client',
      // The operations live in .graphql files and are imported as typed documents (TicketsPageDocument, …), so
      // fragment masking (a React-oriented convenience) stays off.
      presetConfig: { fragmentMasking: false },
      config: {
        // JSON carries both date scalars as strings: DateTime is ISO 8601 ("2026-11-25T08:00:00.000Z"), Date "YYYY-MM-DD".
        scalars: { DateTime: 'string', Date: 'string' },
        strictScalars: true,
        // A nullable field is present and null, never missing (Apollo's recommended setting); inputs may be left out.
        avoidOptionals: { field: true, inputValue: false },
        enumsAsTypes: true,
        useTypeImports: true,
        onlyOperationTypes: true,
        nonOptionalTypename: true,
        skipTypeNameForRoot: true,
      },
    },
    [`${GENERATED_DIR}possible-types.ts`]: { plugins: ['possible-types'] },
    [`${GENERATED_DIR}introspection.ts`]: { plugins: ['urql-introspection'] },
  },
  // Resolves the local plugins by name; every other plugin loads as usual.
  pluginLoader: async (name: string) => localPlugins[name] ?? import(name),
};

export default config;

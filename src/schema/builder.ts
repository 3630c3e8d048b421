// The Pothos schema builder: plugins (relay, dataloader, zod), scalars, and how validation errors reach clients.
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ZodPlugin from '@pothos/plugin-zod';
import { GraphQLError } from 'graphql';
import type { GraphQLContext } from './context';
import { assertNodeType, decodeNodeId } from './validation';

/** Data every connection resolver hands to the shared connection fields (totalCount, voiceSummary, metadata). */
export interface ConnectionExtras {
  totalCount: () => Promise<number>;
  voiceSummary: () => Promise<string>;
  metadata: () => Promise<ResultMetadataShape>;
}

export interface ResultMetadataShape {
  totalResults: number;
  returnedResults: number;
  page: number | null;
  totalPages: number;
  dataType: 'TABULAR' | 'TIME_SERIES' | 'HIERARCHICAL' | 'SUMMARY' | 'EMPTY';
  dataFreshness: string;
  freshAsOf: Date | null;
  voiceHint: string | null;
  queryContext: string;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Connection: ConnectionExtras;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    Date: { Input: string; Output: string };
    ID: { Input: string; Output: string | number };
  };
}>({
  plugins: [RelayPlugin, DataloaderPlugin, ZodPlugin],
  defaultFieldNullability: false,
  relay: {
    nodesOnConnection: true,
    nodesQueryOptions: false,
    // A malformed id, or one naming a type without ids, is BAD_USER_INPUT saying so; a well-formed one that finds
    // nothing is null (validation.ts).
    decodeGlobalID: decodeNodeId,
    nodeQueryOptions: {
      resolve: (_root, args, _ctx, info, resolveNode) => {
        assertNodeType(args.id.typename, info.schema);
        return resolveNode(args.id);
      },
    },
  },
  zod: {
    // Without this, yoga would mask zod's error as "Unexpected error.": name the argument and the rule instead.
    validationError: (zodError) => {
      const issue = zodError.issues[0];
      const path = issue?.path.join('.') || 'arguments';
      return new GraphQLError(`${path}: ${issue?.message ?? 'invalid value'}`, {
        extensions: { code: 'BAD_USER_INPUT', argument: path, issues: zodError.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      });
    },
  },
});

export type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

builder.queryType({});

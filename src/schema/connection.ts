// What every connection shares: paging arguments and their bounds, totalCount, voiceSummary and ResultMetadata.
import type { ArgBuilder } from '@pothos/core';
import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../connectors/paging';
import type { Page, PageRequest } from '../connectors/types';
import { type DataType, classifyPage, dataFreshness, queryContext, totalPages, voiceHint } from '../insights';
import { type BuilderTypes, type ConnectionExtras, type ResultMetadataShape, builder } from './builder';
import { DataTypeEnum } from './enums';

export const ResultMetadata = builder.objectRef<ResultMetadataShape>('ResultMetadata').implement({
  description: 'Facts about a page that a screen or a voice needs to present it.',
  fields: (t) => ({
    totalResults: t.exposeInt('totalResults', { description: 'Rows matching the filter, all pages together (exact).' }),
    returnedResults: t.exposeInt('returnedResults', { description: 'Rows on this page.' }),
    page: t.exposeInt('page', {
      nullable: true,
      description: 'Page number (1-based) when paging by page, or on the first page; null after a cursor.',
    }),
    totalPages: t.exposeInt('totalPages', { description: 'Pages of this size that hold every matching row.' }),
    dataType: t.field({ type: DataTypeEnum, resolve: (m) => m.dataType }),
    dataFreshness: t.exposeString('dataFreshness', {
      description: 'The age of the data itself (its newest change or import), in words: "updated 5 minutes ago".',
    }),
    freshAsOf: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the data last changed; null when the source holds no data yet.',
      resolve: (m) => m.freshAsOf,
    }),
    voiceHint: t.exposeString('voiceHint', {
      nullable: true,
      description: 'What a voice can say about the rest when this page is partial; null when nothing is left.',
    }),
    queryContext: t.exposeString('queryContext', { description: 'e.g. "Showing 10 of 25 support tickets (filtered by status=open)".' }),
  }),
});

builder.globalConnectionFields((t) => ({
  totalCount: t.int({ description: 'Rows matching the filter, all pages together (exact).', resolve: (c) => c.totalCount() }),
  voiceSummary: t.string({
    description: 'A short spoken sentence about the whole filtered set, numbers as digits.',
    resolve: (c) => c.voiceSummary(),
  }),
  metadata: t.field({ type: ResultMetadata, resolve: (c) => c.metadata() }),
}));

const pageBoundsMessage = `must be between 1 and ${MAX_PAGE_SIZE}`;

/** first / after / page with their bounds (validated by plugin-zod). */
export function pagingArgs(t: ArgBuilder<BuilderTypes>) {
  return {
    first: t.int({
      defaultValue: DEFAULT_PAGE_SIZE,
      description: `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`,
      validate: { int: true, min: [1, { message: pageBoundsMessage }], max: [MAX_PAGE_SIZE, { message: pageBoundsMessage }] },
    }),
    after: t.string({
      description: 'Cursor paging: the rows after this cursor (an edge cursor or pageInfo.endCursor). Not with page.',
      validate: { maxLength: [1000, { message: 'is too long to be a cursor of this API' }] },
    }),
    page: t.int({
      description: 'Page-number paging, 1-based. Not with after.',
      validate: { int: true, min: [1, { message: 'must be 1 or more' }], max: [1_000_000, { message: 'must be at most 1000000' }] },
    }),
  };
}

export function pageRequest(args: { first?: number | null; after?: string | null; page?: number | null }): PageRequest {
  return { first: args.first ?? DEFAULT_PAGE_SIZE, after: args.after ?? null, page: args.page ?? null };
}

/** Runs a function once, on first use, and keeps its promise. */
export function lazy<T>(run: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= run());
}

export interface ConnectionSpec<TSummary> {
  noun: string;
  kind: 'rows' | 'time-series';
  nested?: boolean;
  filter: Record<string, unknown>;
  summary: () => Promise<TSummary>;
  total: (summary: TSummary) => number;
  speak: (summary: TSummary) => string;
  freshness: () => Promise<Date | null>;
}

/**
 * A page's PageInfo, its cursors encoded only when a client reads them (paging.ts LazyCursorEdge). The getters live on
 * the class, not on an object literal: V8 keeps each literal's getters in a pair it allocates in the old generation,
 * and that pair (dead once the request ends) held the getters, the page and the whole request's result through every
 * young-generation collection until the next full one: 8-12 % of all a connection question allocated was promoted
 * (bench/README.md, "What the collector promoted").
 */
class LazyPageInfo {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  constructor(private readonly page: Page<unknown>) {
    this.hasNextPage = page.hasNextPage;
    this.hasPreviousPage = page.hasPreviousPage;
  }

  get startCursor(): string | null {
    return this.page.edges[0]?.cursor ?? null;
  }

  get endCursor(): string | null {
    return this.page.edges.at(-1)?.cursor ?? null;
  }
}

/** A connection value: the page now, the aggregates and metadata only when a client asks for them. */
export function connectionResult<T, TSummary>(page: Page<T>, spec: ConnectionSpec<TSummary>) {
  const summary = lazy(spec.summary);
  const totalCount = lazy(async () => spec.total(await summary()));
  const metadata = lazy(async (): Promise<ResultMetadataShape> => {
    const [total, freshAsOf] = await Promise.all([totalCount(), spec.freshness()]);
    const returned = page.edges.length;
    const offset = page.page != null ? (page.page - 1) * page.first : null;
    const dataType: DataType = classifyPage(spec.kind, returned, spec.nested);
    return {
      totalResults: total,
      returnedResults: returned,
      page: page.page,
      totalPages: totalPages(total, page.first),
      dataType,
      dataFreshness: dataFreshness(freshAsOf, new Date()),
      freshAsOf,
      voiceHint: voiceHint({ total, returned, offset, hasNextPage: page.hasNextPage, noun: spec.noun }),
      queryContext: queryContext(returned, total, spec.noun, spec.filter),
    };
  });
  const extras: ConnectionExtras = {
    totalCount,
    voiceSummary: lazy(async () => spec.speak(await summary())),
    metadata,
  };
  return {
    edges: page.edges,
    pageInfo: new LazyPageInfo(page),
    ...extras,
  };
}

/** The connection fields that need the summary (the counts over the whole filtered set). */
const SUMMARY_FIELDS = new Set(['totalCount', 'voiceSummary', 'metadata']);

/**
 * The connection's summary, run once on first use, and started at once when the client asked this connection for
 * totalCount, voiceSummary or metadata: its statement then runs beside the page's instead of after it.
 */
export function summaryFor<T>(info: GraphQLResolveInfo, run: () => Promise<T>): () => Promise<T> {
  const summary = lazy(run);
  // The field resolver awaits the same promise and reports its failure; this only starts it early.
  if (selectsAny(info, SUMMARY_FIELDS, false)) summary().catch(() => undefined);
  return summary;
}

/** Whether a connection's selection asks for its summary (totalCount, voiceSummary or metadata). */
export function asksForSummary(set: SelectionSetNode | undefined, fragments: GraphQLResolveInfo['fragments']): boolean {
  return fieldsIn(set, fragments, (field) => SUMMARY_FIELDS.has(field.name.value), false).length > 0;
}

/**
 * The fields of a selection set that `match` (fragments followed, each fragment once); `nested` also looks inside
 * the selected fields, at any depth.
 */
export function fieldsIn(
  set: SelectionSetNode | undefined,
  fragments: GraphQLResolveInfo['fragments'],
  match: (field: FieldNode) => boolean,
  nested: boolean,
): FieldNode[] {
  const found: FieldNode[] = [];
  const seen = new Set<string>();
  const walk = (selections: SelectionSetNode | undefined): void => {
    for (const s of selections?.selections ?? []) {
      if (s.kind === 'Field') {
        if (match(s)) found.push(s);
        if (nested) walk(s.selectionSet);
      } else if (s.kind === 'InlineFragment') walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        walk(fragments[s.name.value]?.selectionSet);
      }
    }
  };
  walk(set);
  return found;
}

/** Whether the client's selection under this field names one of these fields (see fieldsIn). */
function selectsAny(info: GraphQLResolveInfo, names: Set<string>, nested: boolean): boolean {
  return info.fieldNodes.some((node) => fieldsIn(node.selectionSet, info.fragments, (field) => names.has(field.name.value), nested).length > 0);
}

/** Whether the client's selection under this field asks for a field by name, at any depth (fragments followed). */
export function selects(info: GraphQLResolveInfo, fieldName: string): boolean {
  return selectsAny(info, new Set([fieldName]), true);
}

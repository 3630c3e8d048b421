// The one small interface every data source implements, plus the paging and cursor rules they share.

export type Source = 'customers' | 'tickets' | 'metrics';

/** Either keyset paging (first + after) or numbered pages (first + page); never both. */
export interface PageRequest {
  first: number;
  after?: string | null;
  page?: number | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Page<T> {
  edges: Edge<T>[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  /** 1-based page number in page mode; null when paging by cursor. */
  page: number | null;
  first: number;
}

export interface ListQuery<TFilter, TOrder> {
  filter: TFilter;
  order: TOrder;
  page: PageRequest;
}

/** A source of rows: pages run in SQL; summaries are aggregates over the whole filtered set. */
export interface Connector<TItem, TFilter, TOrder, TSummary> {
  readonly source: Source;
  list(tenantId: string, query: ListQuery<TFilter, TOrder>): Promise<Page<TItem>>;
  summarize(tenantId: string, filter: TFilter): Promise<TSummary>;
  /** When this source's data last changed (import or write), or null when it never held data. */
  freshness(tenantId: string): Promise<Date | null>;
}

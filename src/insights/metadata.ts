// Page metadata for screens and voices: data type, query context ("Showing 10 of 25 …"), voice hint, page counts.

export type DataType = 'TABULAR' | 'TIME_SERIES' | 'HIERARCHICAL' | 'SUMMARY' | 'EMPTY';

/** Classifies a page: empty, a time series (metrics), hierarchical (rows with nested lists), or a plain table. */
export function classifyPage(kind: 'rows' | 'time-series' | 'summary', returned: number, nested = false): DataType {
  if (kind === 'summary') return 'SUMMARY';
  if (returned === 0) return 'EMPTY';
  if (kind === 'time-series') return 'TIME_SERIES';
  return nested ? 'HIERARCHICAL' : 'TABULAR';
}

export function totalPages(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

/** Active filters as "status=open, priority=high" (null/undefined skipped, dates as ISO). */
export function describeFilters(filter: Record<string, unknown>): string {
  return Object.entries(filter)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${v instanceof Date ? v.toISOString() : String(v)}`)
    .join(', ');
}

export function queryContext(returned: number, total: number, noun: string, filter: Record<string, unknown>): string {
  const filters = describeFilters(filter);
  return `Showing ${returned} of ${total} ${noun}${filters ? ` (filtered by ${filters})` : ''}`;
}

/** What a voice says about the rest: null when this page holds everything that is left. */
export function voiceHint(args: { total: number; returned: number; offset: number | null; hasNextPage: boolean; noun: string }): string | null {
  if (!args.hasNextPage) return null;
  if (args.offset != null) {
    const remaining = Math.max(0, args.total - args.offset - args.returned);
    if (remaining === 1) return 'There is 1 more; ask for the next page to hear it.';
    if (remaining > 1) return `There are ${remaining} more ${args.noun}; ask for the next page to hear them.`;
  }
  return `There are more ${args.noun}; ask for the next page to hear them.`;
}

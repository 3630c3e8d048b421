// Trend of a metric over a period: the newer half's average against the older half's.

export type Trend = 'UP' | 'DOWN' | 'FLAT';

/** Changes within ±5% of the older half count as flat. */
export const TREND_THRESHOLD = 0.05;

export function trendOf(olderHalfAverage: number | null, newerHalfAverage: number | null): Trend {
  if (olderHalfAverage == null || newerHalfAverage == null) return 'FLAT';
  const base = Math.abs(olderHalfAverage);
  const change = newerHalfAverage - olderHalfAverage;
  if (base === 0) return change > 0 ? 'UP' : change < 0 ? 'DOWN' : 'FLAT';
  if (change / base > TREND_THRESHOLD) return 'UP';
  if (change / base < -TREND_THRESHOLD) return 'DOWN';
  return 'FLAT';
}

export function trendChangePercent(olderHalfAverage: number | null, newerHalfAverage: number | null): number | null {
  if (olderHalfAverage == null || newerHalfAverage == null || olderHalfAverage === 0) return null;
  return ((newerHalfAverage - olderHalfAverage) / Math.abs(olderHalfAverage)) * 100;
}

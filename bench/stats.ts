// Latency percentiles from raw samples (milliseconds).
export interface LatencyStats {
  p50: number;
  p99: number;
  mean: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(samples: number[]): LatencyStats {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  return {
    p50: percentile(list, 50),
    p99: percentile(list, 99),
    mean: list.length ? list.reduce((a, b) => a + b, 0) / list.length : Number.NaN,
  };
}

/** BENCH_CPU_PROF=<dir> makes every server process write a V8 CPU profile there (for finding where time goes). */
export function profileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

// How old the data is (its newest change or import), said in words: "updated 5 minutes ago".

const units: [string, number][] = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

export function describeAge(ms: number): string {
  if (ms < 60_000) return 'just now';
  for (const [unit, size] of units) {
    if (ms >= size) {
      const n = Math.floor(ms / size);
      return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
    }
  }
  return 'just now';
}

/** "updated 3 hours ago", or "no data yet" when the source never changed. */
export function dataFreshness(freshAsOf: Date | null, now: Date): string {
  if (!freshAsOf) return 'no data yet';
  return `updated ${describeAge(Math.max(0, now.getTime() - freshAsOf.getTime()))}`;
}

// Exact counts over a created-at window from daily rollups: whole UTC days come from the rollup table,
// the partial days at either end are counted from the base table (a small index range), so the sum is exact.

const DAY_MS = 86_400_000;

export interface CountWindow {
  /** Whether any row can match at all (false when after >= before). */
  possible: boolean;
  /** Rollup days to sum: fromDay inclusive, toDay exclusive (YYYY-MM-DD; undefined = open); null = none. */
  rollup: { fromDay?: string; toDay?: string } | null;
  /** Timestamp ranges [from, to) to count from the base table. */
  direct: { from?: Date; to?: Date }[];
}

const dayString = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const ceilDay = (d: Date) => Math.ceil(d.getTime() / DAY_MS) * DAY_MS;
const floorDay = (d: Date) => Math.floor(d.getTime() / DAY_MS) * DAY_MS;

/** Splits [after, before) into whole days (rollup) and partial-day edges (direct counts). */
export function countWindow(after?: Date | null, before?: Date | null): CountWindow {
  if (after && before && after.getTime() >= before.getTime()) return { possible: false, rollup: null, direct: [] };
  const lo = after ? ceilDay(after) : undefined;
  const hi = before ? floorDay(before) : undefined;
  if (lo !== undefined && hi !== undefined && lo >= hi) {
    return { possible: true, rollup: null, direct: [{ from: after!, to: before! }] };
  }
  const direct: { from?: Date; to?: Date }[] = [];
  if (after && lo! > after.getTime()) direct.push({ from: after, to: new Date(lo!) });
  if (before && hi! < before.getTime()) direct.push({ from: new Date(hi!), to: before });
  return {
    possible: true,
    rollup: {
      fromDay: lo !== undefined ? dayString(lo) : undefined,
      toDay: hi !== undefined ? dayString(hi) : undefined,
    },
    direct,
  };
}

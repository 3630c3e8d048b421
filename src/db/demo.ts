// The demo dataset shipped in data/: where it is, and how far to move its dates so its last day is today.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const demoDataDir = fileURLToPath(new URL('../../data', import.meta.url));

const DAY_MS = 86_400_000;

export interface DateShift {
  /** Added to every timestamp: the end of the anchor day lands on `now`, so nothing is in the future. */
  ms: number;
  /** Added to every calendar date (metrics): the anchor day becomes today. */
  days: number;
}

/**
 * How far to move the dataset's dates (data/manifest.json anchorDate) so that its newest data is from today:
 * importing with this shift keeps "last 7 days" questions answerable however old the committed files are.
 */
export function shiftToNow(dir: string, now: Date = new Date()): DateShift {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return { ms: 0, days: 0 };
  const { anchorDate } = JSON.parse(readFileSync(manifestPath, 'utf8')) as { anchorDate?: string };
  if (!anchorDate) return { ms: 0, days: 0 };
  const ms = now.getTime() - (Date.parse(`${anchorDate}T00:00:00Z`) + DAY_MS);
  return { ms, days: Math.ceil(ms / DAY_MS) };
}

/** What the demo import is about to load (data/manifest.json), for the start-up log. */
export function demoSummary(dir: string): string {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return dir;
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { customers?: number; tickets?: number; days?: number };
  return `${m.customers ?? '?'} customers, ${m.tickets ?? '?'} tickets, ${m.days ?? '?'} days of metrics`;
}

// Spoken one-to-three sentence summaries built from whole-set aggregates (never from the returned page alone).
import { type Trend, trendChangePercent, trendOf } from './trend';

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);
const isAre = (n: number) => (n === 1 ? 'is' : 'are');

/** Numbers as digits: integers with grouping, others to at most 1 decimal place. */
// Building an Intl formatter costs far more than formatting (about 100 µs here), so each is built once.
const wholeNumber = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const monthDay = new Intl.DateTimeFormat('en-US', { month: 'long', day: 'numeric', timeZone: 'UTC' });
const monthDayYear = new Intl.DateTimeFormat('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

export function spokenNumber(n: number): string {
  // Counts, the usual case, are grouped here: Intl's format() costs about 0.5 µs a call, and a ticket summary makes
  // several. -0 stays with Intl, which says "-0".
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) return groupedInteger(n);
  return (Math.abs(n) >= 100 ? wholeNumber : oneDecimal).format(n);
}

/** An integer with en-US grouping, as wholeNumber formats it: 1234567 → "1,234,567", -1500 → "-1,500". */
function groupedInteger(n: number): string {
  const digits = String(Math.abs(n));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = grouped.length; i < digits.length; i += 3) grouped += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${grouped}` : grouped;
}

const spokenDates = new Map<string, string>();

/** "2026-11-25" → "November 25" (with the year when it differs from the reference year). */
export function spokenDate(isoDate: string, referenceYear?: number): string {
  const day = isoDate.slice(0, 10);
  const withYear = referenceYear !== undefined && Number(day.slice(0, 4)) !== referenceYear;
  const key = withYear ? `${day}y` : day;
  let spoken = spokenDates.get(key);
  if (spoken === undefined) {
    spoken = (withYear ? monthDayYear : monthDay).format(new Date(`${day}T00:00:00Z`));
    // Formatting a date costs microseconds (about 2 % of the metric question's CPU); summaries name few distinct days.
    if (spokenDates.size >= 4096) spokenDates.clear();
    spokenDates.set(key, spoken);
  }
  return spoken;
}

/** "daily_active_users" → "daily active users". */
export function spokenMetric(metric: string): string {
  return metric.replace(/[_-]+/g, ' ').trim();
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function dateQualifiers(after?: Date | null, before?: Date | null): string {
  const parts: string[] = [];
  if (after) parts.push(`created since ${spokenDate(after.toISOString())}`);
  if (before) parts.push(`created before ${spokenDate(before.toISOString())}`);
  return parts.length ? ` ${parts.join(' and ')}` : '';
}

export interface TicketSummaryInput {
  total: number;
  byStatus: { open: number; closed: number };
  byPriority: { high: number; medium: number; low: number };
  filter: {
    status?: string | null;
    priority?: string | null;
    customerId?: number | null;
    search?: string | null;
    createdAfter?: Date | null;
    createdBefore?: Date | null;
  };
}

export function ticketsVoiceSummary({ total, byStatus, byPriority, filter }: TicketSummaryInput): string {
  const adjectives = [filter.status, filter.priority ? `${filter.priority}-priority` : null].filter(Boolean).join(' ');
  const noun = plural(total, 'support ticket', 'support tickets');
  const qualifiers = [
    filter.customerId != null ? ` for customer ${filter.customerId}` : '',
    filter.search ? ` about "${filter.search}"` : '',
    dateQualifiers(filter.createdAfter, filter.createdBefore),
  ].join('');
  const subject = `${adjectives ? `${adjectives} ` : ''}${noun}${qualifiers}`;
  if (total === 0) return `I found no ${adjectives ? `${adjectives} ` : ''}support tickets${qualifiers}.`;
  const sentences = [`I found ${spokenNumber(total)} ${subject}.`];
  if (!filter.status) {
    sentences.push(`${spokenNumber(byStatus.open)} ${isAre(byStatus.open)} open and ${spokenNumber(byStatus.closed)} ${isAre(byStatus.closed)} closed.`);
  }
  if (!filter.priority) {
    sentences.push(`${spokenNumber(byPriority.high)} ${isAre(byPriority.high)} high priority.`);
  }
  return sentences.join(' ');
}

export interface CustomerSummaryInput {
  total: number;
  byStatus: { active: number; inactive: number };
  filter: { status?: string | null; search?: string | null; createdAfter?: Date | null; createdBefore?: Date | null };
}

export function customersVoiceSummary({ total, byStatus, filter }: CustomerSummaryInput): string {
  const adjective = filter.status ? `${filter.status} ` : '';
  const qualifiers = `${filter.search ? ` matching "${filter.search}"` : ''}${dateQualifiers(filter.createdAfter, filter.createdBefore)}`;
  if (total === 0) return `I found no ${adjective}customers${qualifiers}.`;
  const sentences = [`I found ${spokenNumber(total)} ${adjective}${plural(total, 'customer', 'customers')}${qualifiers}.`];
  if (!filter.status) sentences.push(`${spokenNumber(byStatus.active)} ${isAre(byStatus.active)} active.`);
  return sentences.join(' ');
}

export interface MetricStatsInput {
  metric?: string | null;
  dataPoints: number;
  metricCount: number;
  firstDate: string | null;
  latestDate: string | null;
  average: number | null;
  latestValue: number | null;
  olderHalfAverage: number | null;
  newerHalfAverage: number | null;
}

function trendWords(trend: Trend, percent: number | null): string {
  if (trend === 'FLAT') return 'holding steady';
  const pct = percent == null ? '' : ` ${spokenNumber(Math.abs(percent))} percent`;
  return trend === 'UP' ? `trending up${pct}` : `trending down${pct}`;
}

/** One metric: period, average, trend, latest. Several metrics: how many points and metrics over which period. */
export function metricsVoiceSummary(stats: MetricStatsInput, today: Date = new Date()): string {
  const year = today.getUTCFullYear();
  const name = stats.metric ? spokenMetric(stats.metric) : 'metric';
  if (stats.dataPoints === 0) {
    return stats.metric ? `I found no data for ${name} in that period.` : 'I found no metric data in that period.';
  }
  const period =
    stats.firstDate === stats.latestDate
      ? `on ${spokenDate(stats.firstDate!, year)}`
      : `from ${spokenDate(stats.firstDate!, year)} to ${spokenDate(stats.latestDate!, year)}`;
  if (!stats.metric && stats.metricCount > 1) {
    return `I found ${spokenNumber(stats.dataPoints)} data points across ${stats.metricCount} metrics ${period}.`;
  }
  const trend = trendOf(stats.olderHalfAverage, stats.newerHalfAverage);
  const percent = trendChangePercent(stats.olderHalfAverage, stats.newerHalfAverage);
  const days = `${spokenNumber(stats.dataPoints)} ${plural(stats.dataPoints, 'day', 'days')}`;
  const sentences = [
    `${capitalize(name)} averaged ${spokenNumber(stats.average ?? 0)} over ${days} ${period}${stats.dataPoints > 1 ? `, ${trendWords(trend, percent)}` : ''}.`,
    `The latest value is ${spokenNumber(stats.latestValue ?? 0)} on ${spokenDate(stats.latestDate!, year)}.`,
  ];
  return sentences.join(' ');
}

// Pure rules: spoken summaries, hints, context, data types, freshness, trend, and the exact-count day windows.
import { describe, expect, it } from 'vitest';
import { countWindow } from '../src/connectors/counts';
import { resolveDateRange } from '../src/connectors/metrics';
import {
  classifyPage,
  customersVoiceSummary,
  dataFreshness,
  metricsVoiceSummary,
  queryContext,
  spokenDate,
  spokenNumber,
  ticketsVoiceSummary,
  trendOf,
  voiceHint,
} from '../src/insights';

describe('voice summaries', () => {
  it('speaks ticket counts with digits and the high-priority share', () => {
    expect(ticketsVoiceSummary({ total: 25, byStatus: { open: 25, closed: 0 }, byPriority: { high: 10, medium: 10, low: 5 }, filter: { status: 'open' } })).toBe(
      'I found 25 open support tickets. 10 are high priority.',
    );
    expect(ticketsVoiceSummary({ total: 1, byStatus: { open: 0, closed: 1 }, byPriority: { high: 1, medium: 0, low: 0 }, filter: {} })).toBe(
      'I found 1 support ticket. 0 are open and 1 is closed. 1 is high priority.',
    );
    expect(ticketsVoiceSummary({ total: 0, byStatus: { open: 0, closed: 0 }, byPriority: { high: 0, medium: 0, low: 0 }, filter: { priority: 'high', customerId: 4 } })).toBe(
      'I found no high-priority support tickets for customer 4.',
    );
    expect(ticketsVoiceSummary({ total: 1200, byStatus: { open: 1200, closed: 0 }, byPriority: { high: 300, medium: 0, low: 900 }, filter: { status: 'open', search: 'login' } })).toBe(
      'I found 1,200 open support tickets about "login". 300 are high priority.',
    );
  });

  it('speaks customers and metrics', () => {
    expect(customersVoiceSummary({ total: 50, byStatus: { active: 30, inactive: 20 }, filter: {} })).toBe('I found 50 customers. 30 are active.');
    expect(customersVoiceSummary({ total: 30, byStatus: { active: 30, inactive: 0 }, filter: { status: 'active' } })).toBe('I found 30 active customers.');
    const summary = metricsVoiceSummary(
      { metric: 'daily_active_users', dataPoints: 7, metricCount: 1, firstDate: '2026-11-19', latestDate: '2026-11-25', average: 1234.4, latestValue: 1500, olderHalfAverage: 1000, newerHalfAverage: 1200 },
      new Date('2026-11-25T12:00:00Z'),
    );
    expect(summary).toBe('Daily active users averaged 1,234 over 7 days from November 19 to November 25, trending up 20 percent. The latest value is 1,500 on November 25.');
    expect(spokenDate('2025-12-31', 2026)).toBe('December 31, 2025');
    // Memoised: the same day with and without its year, in either order.
    expect(spokenDate('2025-12-31')).toBe('December 31');
    expect(spokenDate('2025-12-31', 2025)).toBe('December 31');
    expect(spokenDate('2025-12-31T23:00:00Z', 2026)).toBe('December 31, 2025');
  });

  it('groups integers as Intl does, and leaves other numbers to it', () => {
    const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
    const integers = [0, 1, -1, 7, 99, 100, -100, 999, 1000, -1000, 12345, 123456, 1234567, -98765432, 1e15, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    for (let k = 0; k < 2000; k++) integers.push(Math.round((Math.random() - 0.5) * 10 ** (1 + (k % 15))));
    for (const n of integers) expect(spokenNumber(n), String(n)).toBe(whole.format(n));
    expect(spokenNumber(-0)).toBe('-0');
    expect(spokenNumber(2.25)).toBe('2.3');
    expect(spokenNumber(1234.5)).toBe('1,235');
    expect(spokenNumber(2 ** 60)).toBe(whole.format(2 ** 60));
  });
});

describe('page metadata', () => {
  it('builds the query context, voice hint and data type', () => {
    expect(queryContext(10, 25, 'support tickets', { status: 'open', priority: null })).toBe('Showing 10 of 25 support tickets (filtered by status=open)');
    expect(queryContext(3, 3, 'customers', {})).toBe('Showing 3 of 3 customers');
    expect(voiceHint({ total: 25, returned: 10, offset: 0, hasNextPage: true, noun: 'support tickets' })).toBe('There are 15 more support tickets; ask for the next page to hear them.');
    expect(voiceHint({ total: 11, returned: 10, offset: 0, hasNextPage: true, noun: 'customers' })).toBe('There is 1 more; ask for the next page to hear it.');
    expect(voiceHint({ total: 25, returned: 5, offset: 20, hasNextPage: false, noun: 'x' })).toBeNull();
    expect(voiceHint({ total: 25, returned: 5, offset: null, hasNextPage: true, noun: 'customers' })).toBe('There are more customers; ask for the next page to hear them.');
    expect(classifyPage('rows', 0)).toBe('EMPTY');
    expect(classifyPage('rows', 3, true)).toBe('HIERARCHICAL');
    expect(classifyPage('time-series', 3)).toBe('TIME_SERIES');
    expect(classifyPage('summary', 0)).toBe('SUMMARY');
  });

  it('tells the age of the data, not the time', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    expect(dataFreshness(null, now)).toBe('no data yet');
    expect(dataFreshness(new Date('2026-11-25T11:59:30Z'), now)).toBe('updated just now');
    expect(dataFreshness(new Date('2026-11-25T09:00:00Z'), now)).toBe('updated 3 hours ago');
    expect(dataFreshness(new Date('2026-11-24T11:00:00Z'), now)).toBe('updated 1 day ago');
  });

  it('calls a trend within ±5% flat', () => {
    expect(trendOf(100, 104)).toBe('FLAT');
    expect(trendOf(100, 106)).toBe('UP');
    expect(trendOf(100, 90)).toBe('DOWN');
    expect(trendOf(null, 5)).toBe('FLAT');
    expect(trendOf(0, 5)).toBe('UP');
  });
});

describe('exact-count windows', () => {
  it('splits a window into whole rollup days and partial-day edges', () => {
    expect(countWindow()).toEqual({ possible: true, rollup: { fromDay: undefined, toDay: undefined }, direct: [] });
    expect(countWindow(new Date('2026-11-01T12:00:00Z'), new Date('2026-11-05T06:00:00Z'))).toEqual({
      possible: true,
      rollup: { fromDay: '2026-11-02', toDay: '2026-11-05' },
      direct: [
        { from: new Date('2026-11-01T12:00:00Z'), to: new Date('2026-11-02T00:00:00Z') },
        { from: new Date('2026-11-05T00:00:00Z'), to: new Date('2026-11-05T06:00:00Z') },
      ],
    });
    expect(countWindow(new Date('2026-11-01T00:00:00Z'), new Date('2026-11-03T00:00:00Z'))).toEqual({
      possible: true,
      rollup: { fromDay: '2026-11-01', toDay: '2026-11-03' },
      direct: [],
    });
    expect(countWindow(new Date('2026-11-01T01:00:00Z'), new Date('2026-11-01T05:00:00Z')).rollup).toBeNull();
    expect(countWindow(new Date('2026-11-02T00:00:00Z'), new Date('2026-11-01T00:00:00Z')).possible).toBe(false);
  });

  it('resolves lastDays to the N days ending today', () => {
    expect(resolveDateRange({ lastDays: 7 }, new Date('2026-11-25T23:00:00Z'))).toEqual({ from: '2026-11-19', to: '2026-11-25' });
    expect(resolveDateRange({ lastDays: 1 }, new Date('2026-11-25T01:00:00Z'))).toEqual({ from: '2026-11-25', to: '2026-11-25' });
    expect(() => resolveDateRange({ lastDays: 7, to: '2026-01-01' })).toThrow(/cannot be combined/);
  });
});

// Scalars: DateTime (ISO 8601 instant) and Date (calendar day, YYYY-MM-DD).
import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Years 0001 to 9999, the range PostgreSQL reads back in ISO form: year 0000 (or an offset that moves an instant past
 * either end) failed in SQL as an internal error (found by test/fuzz.test.ts).
 */
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

function parseDateTime(value: unknown): Date {
  const bad = () =>
    new GraphQLError(`DateTime must be an ISO 8601 date-time such as 2026-11-25T08:00:00Z, in years 0001 to 9999; got ${JSON.stringify(value)}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value) || Number.isNaN(Date.parse(value)) || !isCalendarDate(value.slice(0, 10))) throw bad();
  // A date-time without an offset is read as UTC so the answer does not depend on the server's time zone.
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/.test(value) && value.includes('T');
  const instant = new Date(hasOffset ? value : value.includes('T') ? `${value}Z` : `${value}T00:00:00Z`);
  if (!(instant.getTime() >= FIRST_INSTANT && instant.getTime() <= LAST_INSTANT)) throw bad();
  return instant;
}

/** A real day (JavaScript reads 2026-02-30 as March 2). */
function isCalendarDate(day: string): boolean {
  const time = Date.parse(`${day}T00:00:00Z`);
  return !day.startsWith('0000') && !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === day;
}

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || !ISO_DATE.test(value) || !isCalendarDate(value)) {
    throw new GraphQLError(`Date must be a calendar date YYYY-MM-DD such as 2026-11-25, in years 0001 to 9999; got ${JSON.stringify(value)}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return value;
}

builder.scalarType('DateTime', {
  description: 'An instant in ISO 8601, e.g. 2026-11-25T08:00:00.000Z (inputs without an offset are read as UTC).',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDateTime(ast.value);
  },
});

builder.scalarType('Date', {
  description: 'A calendar day, YYYY-MM-DD.',
  serialize: (value) => String(value).slice(0, 10),
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Date must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDate(ast.value);
  },
});

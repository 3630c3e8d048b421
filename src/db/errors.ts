// Which database errors mean "the database is unavailable right now" (refused, cut, restarting, timed out) rather than
// a fault in a query: those are answered SERVICE_UNAVAILABLE (retry later), not INTERNAL_SERVER_ERROR.

/** postgres.js's own error codes for a connection that could not be made or was lost. */
const DRIVER_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);
/** Socket errors. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
/** PostgreSQL SQLSTATE classes and codes: connection exceptions (08), shutting down or starting up (57P01-57P03). */
const SQLSTATE = /^(08...|57P01|57P02|57P03|53300)$/;

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATE.test(code)) return true;
    // pg (the agent memory's pool) words a dropped connection without a code.
    if (typeof e.message === 'string' && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e.message)) return true;
  }
  return false;
}

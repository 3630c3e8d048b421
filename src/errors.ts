// Errors a user can act on, thrown anywhere below the schema: UserInputError is reported as BAD_USER_INPUT, UnavailableError
// (a dependency such as Redis is unreachable for now) as SERVICE_UNAVAILABLE.
export class UserInputError extends Error {
  constructor(
    message: string,
    /** The argument (path) at fault, e.g. "after" or "filter.lastDays". */
    readonly argument?: string,
  ) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** Something the request needs is unreachable for now (not the request's fault, not a bug): retry later. */
export class UnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnavailableError';
  }
}

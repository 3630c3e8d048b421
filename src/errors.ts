// Errors a user can act on. Thrown anywhere below the schema; the schema reports them as BAD_USER_INPUT.
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

/**
 * A bug in mmfm, never the user's fault: the command line prints its message with exit status 70
 * (the stack with `--verbose`). Everything the user can cause is a diagnostic or a named input error.
 */
export class InternalError extends Error {
  override readonly name: string = "InternalError";
}

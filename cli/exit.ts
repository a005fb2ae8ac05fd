/** Exit statuses of `mmfmc` (LANGUAGE.md §8). */
export const enum Exit {
  /** the command did what was asked */
  Ok = 0,
  /** the input has errors (diagnostics were printed) */
  InputErrors = 1,
  /** bad usage: unknown command or option, missing argument */
  Usage = 2,
  /** an internal error: a bug in mmfmc, never the user's fault */
  Internal = 70,
  /** `mmfmc run` stopped by SIGINT (128 + 2, as a shell reports it): checkpoint written, lock released; the same command resumes */
  Interrupted = 130,
  /** `mmfmc run` stopped by SIGTERM (128 + 15), e.g. `docker stop`: as for SIGINT */
  Terminated = 143,
}

/** Thrown for bad command-line usage; the CLI prints the message and exits with `Exit.Usage`. */
export class UsageError extends Error {}

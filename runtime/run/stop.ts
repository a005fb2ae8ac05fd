/**
 * Why a run stops before its end, other than an input error found in a file:
 *
 * - `RunInterrupted`: SIGINT or SIGTERM asked it to (Ctrl-C, `docker stop`, a job scheduler). The
 *   training stage stopped at a step boundary and wrote a checkpoint there; the lock is released;
 *   running the same command again resumes. The command line exits with 128 + the signal's number
 *   (130 for SIGINT, 143 for SIGTERM), as shells report a process killed by it.
 * - `TrainingDiverged`: the loss (or the gradient norm) became NaN or infinite. Nothing of that step
 *   is written; the last good checkpoint stays. Exit 1: it is the stage's configuration (most often
 *   its learning rate) that needs changing.
 */

export interface StopPlace {
  readonly variant: string;
  readonly stage: string;
  readonly kind: "stage" | "eval";
  /** training: the step the checkpoint holds; evaluation: items answered (not kept) */
  readonly step: number;
  readonly steps: number;
}

export class RunInterrupted extends Error {
  constructor(
    readonly signal: string,
    readonly place: StopPlace | null,
  ) {
    super(interruptedMessage(signal, place));
  }
}

function interruptedMessage(signal: string, place: StopPlace | null): string {
  if (place === null) return `stopped by ${signal} between stages; every finished stage is kept\n  help: run the same command again to continue`;
  const where = `stage \`${place.stage}\` of ${place.variant}`;
  if (place.kind === "eval") {
    return `stopped by ${signal} during ${where} (${place.step} of ${place.steps} items answered; an evaluation restarts from its first item)\n  help: run the same command again to continue`;
  }
  return place.step > 0
    ? `stopped by ${signal} at step ${place.step} of ${place.steps} of ${where}; its checkpoint is written\n  help: run the same command again to resume from step ${place.step}`
    : `stopped by ${signal} before the first step of ${where}\n  help: run the same command again to continue`;
}

export class TrainingDiverged extends Error {}

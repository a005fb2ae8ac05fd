/**
 * The lock of an experiment's runs folder: one `mmfmc run` at a time. The lock file says who holds
 * it: the pid, the host, and (on Linux) the kernel's boot id and the process's start time, field 22
 * of /proc/PID/stat in clock ticks since boot. A pid alone is not an identity: in a container a
 * restarted run is PID 1 again, and any pid is reused in time. So a lock is stale, and taken over,
 * when its holder is verifiably gone: on this host, and
 *
 *   - the machine was booted since (another boot id), or
 *   - no process has that pid, or
 *   - the process with that pid started at another time than the holder did.
 *
 * A lock from another host (a runs folder on a shared disk) cannot be checked from here: it is
 * refused, and the message names the file to delete if that run is gone.
 *
 * The lock file is created complete (written to a temporary file, then hard-linked into place, which
 * fails if a lock exists), so a reader never sees half a lock.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileError } from "../../core/files.js";

export class LockError extends Error {}

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** when the holder took the lock (ISO time, for people) */
  readonly started: string;
  /** Linux: /proc/sys/kernel/random/boot_id */
  readonly boot?: string;
  /** Linux: the holder's start time, /proc/PID/stat field 22 (clock ticks since boot) */
  readonly startTicks?: number;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The kernel's boot id, or undefined off Linux. */
export function bootId(): string | undefined {
  return readOrUndefined("/proc/sys/kernel/random/boot_id")?.trim();
}

/**
 * A process's start time in clock ticks since boot (/proc/PID/stat field 22), or undefined when the
 * process does not exist or this is not Linux. The second field, the command name, is in parentheses
 * and may hold spaces and parentheses itself: fields are counted after the last `)`.
 */
export function processStartTicks(pid: number): number | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields 3, 4, ...
  const ticks = Number(fields[22 - 3]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Who this process is, as a lock holder. */
export function thisProcess(): LockHolder {
  return { pid: process.pid, host: hostname(), started: new Date().toISOString(), boot: bootId(), startTicks: processStartTicks(process.pid) };
}

/**
 * `running`: the holder is alive on this host; `gone`: verifiably dead (the lock is stale);
 * `unknown`: it holds the lock from another host, which cannot be checked from here.
 */
export function holderState(holder: Partial<LockHolder>): "running" | "gone" | "unknown" {
  if (typeof holder.pid !== "number" || typeof holder.host !== "string") return "gone"; // not a lock mmfmc wrote
  if (holder.host !== hostname()) return "unknown";
  const boot = bootId();
  if (holder.boot !== undefined && boot !== undefined && holder.boot !== boot) return "gone"; // rebooted since
  if (!pidExists(holder.pid)) return "gone";
  if (holder.startTicks === undefined) return "running"; // a lock without a start time: the pid is all there is
  const ticks = processStartTicks(holder.pid);
  return ticks === undefined || ticks === holder.startTicks ? "running" : "gone"; // another process has the pid now
}

function parseHolder(text: string | undefined): Partial<LockHolder> {
  try {
    const value = JSON.parse(text ?? "") as unknown;
    return value !== null && typeof value === "object" ? (value as Partial<LockHolder>) : {};
  } catch {
    return {};
  }
}

/** Creates `path` holding `text`, atomically; false if it exists. */
function createComplete(path: string, text: string): boolean {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw fileError(error, "create the lock", path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Moves a stale lock out of the way, unless another run replaced it in the meantime (then it is put
 * back). Returns whether the stale lock is gone.
 */
function removeStale(path: string, staleText: string | undefined): boolean {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true; // someone else removed it
    throw fileError(error, "remove the stale lock", path);
  }
  if (readOrUndefined(aside) === staleText) {
    unlinkSync(aside);
    return true;
  }
  // another run took the lock over between our read and our rename: give its lock back
  try {
    linkSync(aside, path);
  } catch {
    // a third run holds it now; the retry will see
  }
  unlinkSync(aside);
  return false;
}

function describe(holder: Partial<LockHolder>): string {
  return `pid ${holder.pid ?? "?"} on ${holder.host ?? "?"}, started ${holder.started ?? "?"}`;
}

/**
 * Takes the lock of `dir` (its `.lock` file) or explains who holds it. Returns the release function;
 * a stale lock is taken over, and `onStale` hears about it.
 */
export function takeLock(dir: string, onStale: (message: string) => void = () => {}): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw fileError(error, "create the runs folder", dir);
  }
  const path = join(dir, ".lock");
  const me = thisProcess();
  const mine = JSON.stringify(me) + "\n";
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createComplete(path, mine)) {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (readOrUndefined(path) === mine) rmSync(path, { force: true });
      };
    }
    const text = readOrUndefined(path);
    const holder = parseHolder(text);
    const state = holderState(holder);
    if (state === "running") {
      throw new LockError(
        `another mmfmc run (${describe(holder)}) is using ${dir}\n  help: wait for it to finish; if no mmfmc run is using this folder, delete ${path}`,
      );
    }
    if (state === "unknown") {
      throw new LockError(
        `${dir} is locked by an mmfmc run on another host (${describe(holder)}), which cannot be checked from here\n` +
          `  help: wait for it to finish; if that run is gone, delete ${path}`,
      );
    }
    if (removeStale(path, text)) onStale(`took over the lock of a run that is gone (${describe(holder)})`);
  }
  throw new LockError(`cannot take the lock ${path}: other runs keep taking it\n  help: make sure only one mmfmc run uses ${dir}`);
}

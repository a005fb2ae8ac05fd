/** Shared helpers for the test suite. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Golden files are rewritten only when MMFM_UPDATE_GOLDEN=1 (never in CI); otherwise compared. */
export const updateGolden = process.env.MMFM_UPDATE_GOLDEN === "1";

export function golden(path: string, actual: string): { expected: string; actual: string } {
  if (updateGolden || !existsSync(path)) {
    if (!updateGolden && process.env.CI) throw new Error(`missing golden file ${path} (run with MMFM_UPDATE_GOLDEN=1)`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  return { expected: readFileSync(path, "utf8"), actual };
}

export function tempDir(prefix = "mmfm-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the built CLI (`npm test` builds dist/ first). */
export function mmfmc(args: readonly string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(process.execPath, [join(repo, "bin", "mmfmc.js"), ...args], {
    cwd: options.cwd ?? repo,
    input: options.input,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Waits until the kernel shows process `pid` stopped (state T in /proc/PID/stat), or has exited. */
async function untilStopped(pid: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return; // gone
    }
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "T" || state === "t" || state === "Z") return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`process ${pid} did not stop`);
}

/**
 * Starts `mmfmc ARGS` and runs it in slices of about 5 ms (SIGCONT, wait, SIGSTOP) until `ready()`
 * holds while it is stopped; then `act(child)` is called with the child still stopped, and it is let
 * go. A training step takes far longer than a slice, so the child is caught within a step of the
 * moment `ready` became true, on a fast or a loaded machine alike: a test does not depend on a window
 * of time. The child is killed if anything fails.
 */
export async function driveMmfmc(
  args: readonly string[],
  ready: () => boolean,
  act: (child: ChildProcess) => void,
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [join(repo, "bin", "mmfmc.js"), ...args], {
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (status, signal) => resolve({ status, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (done) throw new Error(`the run ended before the test could act on it:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`the run did not reach the expected point in 120 s:\n${stderr}`);
      child.kill("SIGSTOP");
      await untilStopped(child.pid!);
      if (ready()) break;
      child.kill("SIGCONT");
      await sleep(5);
    }
    act(child);
    child.kill("SIGCONT");
    const end = await exited;
    return { ...end, stderr };
  } finally {
    if (!done) {
      child.kill("SIGKILL");
      await exited;
    }
  }
}

/** Shared helpers for the test suite. */
import { spawnSync } from "node:child_process";
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

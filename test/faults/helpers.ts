/**
 * Helpers for the fault suite: a small training spec, runs of the built CLI under a file size limit
 * or as another user, and what a runs folder holds.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repo, tempDir } from "../helpers.js";

/** One training stage of the connector on 4 synthetic images: about 0.1 s a step on the tiny presets. */
export function writeSpec(dir: string, options: { steps?: number; every?: number; vision?: string } = {}): string {
  writeFileSync(join(dir, "package.json"), "{}");
  const path = join(dir, "f.mmfm");
  writeFileSync(
    path,
    `import "std"
model m { vision = ${options.vision ?? "tiny_clip_vit"}, connector = mlp2x_gelu, language = tiny_gemma_2b_untrained }
stage s { data = synthetic_shapes { size = 4 }, train = [connector], batch = 2, max_length = 96, steps = ${options.steps ?? 12}, checkpoint_every = ${options.every ?? 2} }
experiment f { model = m, stages = [s] }
`,
  );
  return path;
}

export interface Result {
  readonly status: number | null;
  readonly stderr: string;
}

/** The arguments of `mmfmc run` for a spec and a runs folder: the build beside the runs, the wasm backend. */
export function runArgs(spec: string, runs: string, extra: readonly string[] = []): string[] {
  return ["run", spec, "--runs", runs, "--out", join(runs, "..", "build"), "--backend", "wasm", ...extra];
}

/** Runs `mmfmc run SPEC --runs RUNS` (wasm backend, build next to the spec); `shell` prefixes a `bash -c` line (e.g. `ulimit -f 300`). */
export function runFaulty(spec: string, runs: string, options: { extra?: readonly string[]; shell?: string; asUser?: boolean } = {}): Result {
  const args = [join(repo, "bin", "mmfmc.js"), ...runArgs(spec, runs, options.extra)];
  const env = { ...process.env, NO_COLOR: "1" };
  // a folder's permissions bind root only through another user: run as nobody when the tests run as root
  const user = options.asUser && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const r = options.shell
    ? spawnSync("bash", ["-c", `${options.shell}; exec "$0" "$@"`, process.execPath, ...args], { encoding: "utf8", env, ...user })
    : spawnSync(process.execPath, args, { encoding: "utf8", env, ...user });
  return { status: r.status, stderr: r.stderr };
}

/** The single stage folder of experiment `f` in a runs folder. */
export function stageDir(runs: string): string {
  const stages = join(runs, "f", "stages");
  const keys = existsSync(stages) ? readdirSync(stages) : [];
  if (keys.length !== 1) throw new Error(`expected one stage folder in ${stages}, found ${keys.length}`);
  return join(stages, keys[0]);
}

/** Every path under `dir` whose name marks a temporary (`*.tmp-PID`, `*.stale-PID`). */
export function temporaries(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (/\.(tmp|stale)-\d+$/.test(name)) out.push(p);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Every file under `dir` with its bytes, to show that nothing changed. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(p, readFileSync(p).toString("base64"));
    }
  };
  walk(dir);
  return out;
}

/** A folder the tests (and, when they run as root, the user nobody) can write: spec, build, runs. */
export function workDir(prefix: string): string {
  const dir = tempDir(prefix);
  chmodSync(dir, 0o777);
  return dir;
}

/** Copies the generated datasets of a finished runs folder, so that a test does not generate them again. */
export function seedData(from: string, runs: string): void {
  cpSync(join(from, "f", "data"), join(runs, "f", "data"), { recursive: true });
}

/** A pid that no process has: one of a process that has exited. */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

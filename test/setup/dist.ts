/**
 * Vitest global setup: the CLI tests run `bin/mmfmc.js`, which runs the compiled `dist/`, and the GPU
 * check's test runs the benchmarks compiled into `bench/out/`. When a TypeScript source is newer than
 * its compiled file (or that file is missing), that build runs first, so a test never passes or fails
 * on yesterday's code. `npm test` builds both before vitest: then this finds nothing to do.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { repo } from "../helpers.js";

/** The folders a tsconfig compiles. */
function sourcesOf(tsconfig: string): string[] {
  return (JSON.parse(readFileSync(join(repo, tsconfig), "utf8")) as { include: string[] }).include;
}

/**
 * Sources whose compiled `.js` in `outDir` is older than they are, or missing (for the benchmarks'
 * build, which compiles only what they import, a missing file of a folder other than bench/ is fine).
 */
export function staleSources(sources: readonly string[] = sourcesOf("tsconfig.build.json"), outDir = "dist"): string[] {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        if (path.startsWith(join(repo, "bench", "out"))) continue;
        const out = join(repo, outDir, relative(repo, path).replace(/\.ts$/, ".js"));
        const needed = outDir === "dist" || relative(repo, path).startsWith("bench");
        if (existsSync(out) ? statSync(out).mtimeMs < statSync(path).mtimeMs : needed) stale.push(relative(repo, path));
      }
    }
  };
  for (const s of sources) if (existsSync(join(repo, s))) walk(join(repo, s));
  return stale;
}

function build(tsconfig: string, outDir: string, sources: readonly string[], why: string): void {
  const stale = staleSources(sources, outDir);
  if (stale.length === 0) return;
  process.stderr.write(`${outDir}/ is older than ${stale[0]}${stale.length > 1 ? ` and ${stale.length - 1} more sources` : ""}: building it for ${why}\n`);
  const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", tsconfig], { cwd: repo, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`the build failed, and ${why} run ${outDir}/: run \`npx tsc -p ${tsconfig}\` to see why`);
}

export default function setup(): void {
  build("tsconfig.build.json", "dist", sourcesOf("tsconfig.build.json"), "the CLI tests");
  // the benchmarks compile with the sources they load (bench/out/bench, bench/out/runtime, ...)
  build("tsconfig.bench.json", "bench/out", [...sourcesOf("tsconfig.build.json"), "bench"], "the GPU check's test");
}

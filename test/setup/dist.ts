/**
 * Vitest global setup: the CLI tests run `bin/mmfmc.js`, which runs the compiled `dist/`. When a
 * TypeScript source is newer than its compiled file (or that file is missing), the build runs first,
 * so a test never passes or fails on yesterday's code. `npm test` builds before vitest: then this
 * finds nothing to do.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { repo } from "../helpers.js";

/** The folders tsconfig.build.json compiles. */
const SOURCES = ["grammar", "compiler", "runtime", "cli", "bench"];

/** Sources whose compiled `.js` in dist/ is missing or older than they are. */
export function staleSources(): string[] {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        const out = join(repo, "dist", relative(repo, path).replace(/\.ts$/, ".js"));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(path).mtimeMs) stale.push(relative(repo, path));
      }
    }
  };
  for (const s of SOURCES) if (existsSync(join(repo, s))) walk(join(repo, s));
  return stale;
}

export default function setup(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  process.stderr.write(`dist/ is older than ${stale[0]}${stale.length > 1 ? ` and ${stale.length - 1} more sources` : ""}: building it for the CLI tests\n`);
  const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repo, stdio: "inherit" });
  if (r.status !== 0) throw new Error("the build failed, and the CLI tests run dist/: run `npm run build` to see why");
}

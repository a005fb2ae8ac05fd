/**
 * Benchmarks of the language front end and of `mmfmc build`:
 *   - check of the paper spec in process (cold: first compile; warm: median of later ones)
 *   - the grid of a generated spec with 10,000 variants (check + expansion + hashes)
 *   - `mmfmc check` and `mmfmc build` of the paper spec from a cold process
 *   - `mmfmc build` of a generated 1,000-variant grid from a cold process
 *   - large inputs, each compiled in a fresh process (time and peak resident memory): a 5 MB spec of
 *     115,000 declarations, and a grid of 100,000 variants
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node bench/out/bench/frontend.js [--json]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../compiler/pipeline.js";
import { packageRoot } from "../core/package_root.js";

const root = packageRoot();
const paper = join(root, "examples", "llava-gemma.mmfm");
const bin = join(root, "bin", "mmfmc.js");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time<T>(f: () => T): [number, T] {
  const t = performance.now();
  const r = f();
  return [performance.now() - t, r];
}

/** A spec whose grid has `n` variants: crossed axes over lr, seed, warmup and depth. */
function gridSpec(axes: number[][]): string {
  const [lrs, seeds, warmups, depths] = axes;
  return `import "std"
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
stage s { data = shapes_train, train = [connector, language], batch = 8 }
eval e { data = [shapes_test] }
experiment big {
  model  = m
  stages = [s, e]
  ablate {
    s.lr:                  [${lrs.map((x) => `${x}e-4`).join(", ")}]
    seed:                  [${seeds.join(", ")}]
    s.schedule.warmup:     [${warmups.map((x) => `${x / 100}`).join(", ")}]
    model.connector.depth: [${depths.join(", ")}]
  }
}
`;
}

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

/** A spec of about `bytes` bytes: one stage declaration per line, each refining the one before. */
function largeSpec(bytes: number): string {
  const lines = [gridSpec([[1], [1], [1], [2]])];
  let size = lines[0].length;
  for (let i = 0; size < bytes; i++) {
    const line = `stage s${i} = s { lr = ${i + 1}e-6, batch = 8 }\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join("");
}

/**
 * Compiles a spec (check and grid) in a fresh Node process: milliseconds, peak resident memory in MiB
 * (the process's own `maxRSS`, the same figure as `/usr/bin/time -v`), and the number of variants.
 */
function fresh(spec: string): { ms: number; rssMiB: number; variants: number } {
  const pipeline = join(root, "dist", "compiler", "pipeline.js");
  const script = `
    const { compile } = await import(${JSON.stringify(pipeline)});
    const t = performance.now();
    const c = compile(${JSON.stringify(spec)});
    if (c.diagnostics.hasErrors) throw new Error(c.diagnostics.items[0].message);
    const variants = c.experiments.reduce((n, e) => n + e.variants.length, 0);
    console.log(JSON.stringify({ ms: performance.now() - t, rssMiB: process.resourceUsage().maxRSS / 1024, variants }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`compiling ${spec} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { ms: number; rssMiB: number; variants: number };
}

function cold(args: string[]): number {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    if (r.status !== 0) throw new Error(`mmfmc ${args.join(" ")} failed: ${r.stderr}`);
    runs.push(performance.now() - t);
  }
  return median(runs);
}

const results: Record<string, number> = {};
const [first] = time(() => compile(paper));
results["check paper spec, in process, first (ms)"] = first;
const warm: number[] = [];
for (let i = 0; i < 30; i++) warm.push(time(() => compile(paper))[0]);
results["check paper spec, in process, warm median (ms)"] = median(warm);

const dir = mkdtempSync(join(tmpdir(), "mmfm-bench-"));
try {
  writeFileSync(join(dir, "package.json"), "{}");
  const big = join(dir, "big.mmfm");
  writeFileSync(big, gridSpec([range(10), range(10), range(10), range(10)]));
  const grids: number[] = [];
  let variants = 0;
  for (let i = 0; i < 3; i++) {
    const [ms, c] = time(() => compile(big));
    if (c.diagnostics.hasErrors) throw new Error(c.diagnostics.items.map((d) => d.message).join("\n"));
    variants = c.experiments[0].variants.length;
    grids.push(ms);
  }
  results[`grid of ${variants} variants, in process, median (ms)`] = median(grids);

  results["mmfmc check paper spec, cold process (ms)"] = cold(["check", paper]);
  results["mmfmc grid paper spec --json, cold process (ms)"] = cold(["grid", paper, "--json"]);
  results["mmfmc build paper spec, cold process (ms)"] = cold(["build", paper, "--out", join(dir, "out")]);
  const thousand = join(dir, "thousand.mmfm");
  writeFileSync(thousand, gridSpec([range(10), range(10), range(10), [2]]));
  rmSync(join(dir, "out"), { recursive: true, force: true });
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, "build", thousand, "--out", join(dir, "out")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  results["mmfmc build 1,000-variant grid, cold process, first build (ms)"] = performance.now() - t;
  results["mmfmc build 1,000-variant grid, cold process, unchanged rebuild (ms)"] = cold(["build", thousand, "--out", join(dir, "out")]);

  const large = join(dir, "large.mmfm");
  writeFileSync(large, largeSpec(5_000_000));
  const l = fresh(large);
  results["5 MB spec (115,000 declarations), fresh process (ms)"] = l.ms;
  results["5 MB spec (115,000 declarations), fresh process, peak RSS (MiB)"] = l.rssMiB;
  const grid = join(dir, "grid100k.mmfm");
  writeFileSync(grid, gridSpec([range(10), range(100), range(10), range(10)]));
  const g = fresh(grid);
  if (g.variants !== 100_000) throw new Error(`expected 100,000 variants, got ${g.variants}`);
  results["grid of 100,000 variants, fresh process (ms)"] = g.ms;
  results["grid of 100,000 variants, fresh process, peak RSS (MiB)"] = g.rssMiB;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv.includes("--json")) console.log(JSON.stringify(results));
else for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(70)} ${v.toFixed(1)}`);

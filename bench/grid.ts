/**
 * Benchmark: the main job, `mmfmc run examples/llava-gemma-tiny.mmfm`, from an empty runs folder,
 * then again (everything cached), with the options `npm start` passes unless others are given. Prints the wall times, the time of every computed stage and the
 * report's results.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node bench/out/bench/grid.js [--json] [--backend NAME] [--threads N] [--jobs N]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../core/package_root.js";

const root = packageRoot();
const args = process.argv.slice(2);
const given = args.filter((a) => a !== "--json");
// what `npm start` runs (package.json): two variants side by side, one wasm thread each
const pass = given.length ? given : ["--jobs", "2"];
const runs = mkdtempSync(join(tmpdir(), "mmfm-grid-"));

function run(): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(root, "bin", "mmfmc.js"), "run", join(root, "examples", "llava-gemma-tiny.mmfm"), "--runs", runs, "--out", join(runs, "build"), ...pass], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) throw new Error(`mmfmc run failed with status ${r.status}`);
  return (performance.now() - t) / 1000;
}

try {
  const first = run();
  const second = run();
  const dir = join(runs, "llava_gemma_tiny", "stages");
  const stages = readdirSync(dir).map((k) => JSON.parse(readFileSync(join(dir, k, "stage.json"), "utf8")));
  const report = JSON.parse(readFileSync(join(runs, "llava_gemma_tiny", "report.json"), "utf8"));
  const result = {
    firstRunSeconds: first,
    cachedRunSeconds: second,
    stages: stages.map((s) => ({ variant: s.variant, stage: s.name, seconds: s.seconds, steps: s.steps, finalLoss: s.finalLoss, metrics: s.metrics })),
    results: report.variants.map((v: { id: string; metrics: Record<string, number> }) => ({ id: v.id, ...v.metrics })),
    effects: report.effects,
  };
  if (args.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(`tiny grid: first run ${first.toFixed(1)} s, cached re-run ${second.toFixed(1)} s`);
    for (const s of result.stages) console.log(`  ${s.variant.padEnd(40)} ${s.stage.padEnd(12)} ${s.seconds.toFixed(1).padStart(7)} s ${s.steps ? `${s.steps} steps, loss ${s.finalLoss.toFixed(4)}` : JSON.stringify(s.metrics)}`);
  }
} finally {
  rmSync(runs, { recursive: true, force: true });
}

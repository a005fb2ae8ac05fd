#!/usr/bin/env node
// `npm run bench`: every benchmark in turn (after `tsc -p tsconfig.build.json` and `tsc -p tsconfig.bench.json`, which
// compiles the benchmarks into bench/out/, outside the shipped dist/), each printing its own
// results; run it on a quiet machine and record the numbers in docs/benchmarks.md with the date.
//   npm run bench [-- --quick]    (--quick skips the PyTorch peer, the tiny grid and the tower probes)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const quick = process.argv.includes("--quick");
const decoderDir = mkdtempSync(join(tmpdir(), "mmfm-decoder-"));
const steps = [
  ["front end and build", ["node", ["bench/out/bench/frontend.js"]]],
  ["language server latency on 2,000-line specs", ["node", ["bench/out/bench/lsp.js"]]],
  ["data: decode + preprocess + tokenize", ["node", ["bench/out/bench/data/throughput.js"]]],
  ["tiny decoder step, wasm 1 thread", ["node", ["bench/out/bench/runtime/decoder_step.js", "--backend", "wasm", "--threads", "1", "--write", decoderDir]]],
  ["tiny decoder step, wasm 2 threads", ["node", ["bench/out/bench/runtime/decoder_step.js", "--backend", "wasm", "--threads", "2"]]],
  ["tiny LLaVA step, wasm 2 threads", ["node", ["bench/out/bench/runtime/llava_step.js", "--backend", "wasm", "--threads", "2"]]],
  ...(quick
    ? []
    : [
        ["tiny decoder step, PyTorch (python3-torch, OpenBLAS 2 threads)", [existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3", ["bench/runtime/decoder_step.py", decoderDir]]],
        ["the tiny grid, end to end (mmfmc run examples/llava-gemma-tiny.mmfm)", ["node", ["bench/out/bench/grid.js"]]],
        ["what the CLIP-like tower's features tell, and how fast a connector reads it", ["node", ["bench/out/bench/probe.js", "std/weights/tiny_clip_vit"]]],
        ["what the DINOv2-like tower's features tell, and how fast a connector reads it", ["node", ["bench/out/bench/probe.js", "std/weights/tiny_dinov2", "--resize", "36"]]],
      ]),
];
let failed = 0;
for (const [title, [cmd, args]] of steps) {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, OPENBLAS_NUM_THREADS: "2" } });
  if (r.status !== 0) {
    console.log(`(${title}: exit ${r.status}${r.error ? `, ${r.error.message}` : ""})`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;

/**
 * Probe: what a frozen tiny vision tower's features tell about one-shape scenes (the colour and the
 * kind of the shape), and how fast a readout of the connector's shape learns it (bench/probe/readout.ts).
 *
 *   npm run build:bench && node bench/out/bench/probe.js [DIR] [--train N] [--test N] [--steps N]
 *     [--batch N] [--lr X] [--layer L] [--width N] [--resize N] [--json]
 *
 * DIR: a tower's Hugging Face folder (default std/weights/tiny_clip_vit). One wasm thread, so the
 * digits are the same on every run. `--resize`: the shortest edge before the centre crop, as the
 * preset declares it (std/tiny.mmfm: 36 for tiny_dinov2; the default is the family's HF ratio).
 */
import { join } from "node:path";
import { packageRoot } from "../core/package_root.js";
import { initBackend } from "../runtime/backend/index.js";
import { loadPretrained } from "../runtime/models/index.js";
import { probeTable, probeTower, type ProbeOptions } from "./probe/readout.js";

const USAGE = `usage: node bench/out/bench/probe.js [DIR] [--train N] [--test N] [--steps N] [--batch N] [--lr X] [--layer L] [--width N] [--resize N] [--json]

  DIR          a tower's Hugging Face folder (default std/weights/tiny_clip_vit)
  --train N    training scenes (one shape each), --test N held-out scenes
  --steps N    Adam steps of each readout; --batch N scenes per step (0: every training scene)
  --lr X       the readouts' learning rate; --width N the MLP readouts' width
  --layer L    the hidden state read (LLaVA's -2 by default)
  --resize N   the shortest edge before the centre crop, as the preset declares it (36 for tiny_dinov2)
  --json       the result as JSON instead of a table`;
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
const json = args.includes("--json");
const rest = args.filter((a) => a !== "--json");
const numeric: Record<string, keyof ProbeOptions> = { "--train": "train", "--test": "test", "--steps": "steps", "--batch": "batch", "--lr": "lr", "--layer": "layer", "--width": "width", "--resize": "resize" };
const options: Record<string, number> = {};
let dir = join(packageRoot(), "std", "weights", "tiny_clip_vit");
for (let i = 0; i < rest.length; i++) {
  const key = numeric[rest[i]];
  if (key) {
    const value = Number(rest[++i]);
    if (!Number.isFinite(value)) throw new Error(`${rest[i - 1]} needs a number, got ${rest[i]}`);
    options[key] = value;
  } else if (rest[i].startsWith("--")) throw new Error(`unknown option ${rest[i]}\n${USAGE}`);
  else dir = rest[i];
}
await initBackend({ threads: 1 });
const model = await loadPretrained(dir);
const t = performance.now();
const result = probeTower(model, options);
const seconds = (performance.now() - t) / 1000;
if (json) console.log(JSON.stringify({ dir, options, seconds, ...result }, null, 2));
else {
  console.log(`${dir} (${result.family}), hidden state ${result.layer}, ${JSON.stringify(options)}: ${seconds.toFixed(0)} s`);
  console.log(probeTable(result));
}

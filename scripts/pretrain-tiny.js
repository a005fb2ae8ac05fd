#!/usr/bin/env node
// `npm run pretrain-tiny`: pretrains the tiny backbones of std/tiny.mmfm with the recipe in
// examples/pretrain-tiny.mmfm (on the tfjs runtime, from its fixed seed, in a fresh runs folder) and
// writes what each pretraining stage leaves, a Hugging Face folder, into std/weights/NAME/, with
// std/weights/manifest.json recording every file's sha256. The same recipe gives the same bytes.
//
//   node scripts/pretrain-tiny.js [--out DIR] [--threads N] [--set PATH=VALUE]... [--only NAME]... [--check]
//
//   --out DIR     where the weights go (default std/weights)
//   --threads N   wasm threads (default 2; the bytes do not depend on it)
//   --set         passed to `mmfmc run` (a shortened recipe, for tests)
//   --only NAME   pretrain this backbone only (tiny_clip_vit, tiny_dinov2, tiny_gemma_2b, tiny_gemma_7b;
//                 repeatable): the others' folders in DIR are kept as they are, and the manifest
//                 records every file there; with --check, compare only its files
//   --check       pretrain into a temporary folder and compare its hashes with DIR/manifest.json:
//                 exit 0 when every file is equal, 1 with the files that differ
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const RECIPE = "examples/pretrain-tiny.mmfm";
/** experiment of the recipe -> the preset whose weights it makes, and the part of the model it trains */
const BACKBONES = {
  pretrain_clip: { name: "tiny_clip_vit", part: "vision" },
  pretrain_dinov2: { name: "tiny_dinov2", part: "vision" },
  pretrain_gemma_2b: { name: "tiny_gemma_2b", part: "language" },
  pretrain_gemma_7b: { name: "tiny_gemma_7b", part: "language" },
};

function usage(message) {
  console.error(`pretrain-tiny: ${message}\nusage: node scripts/pretrain-tiny.js [--out DIR] [--threads N] [--set PATH=VALUE]... [--only NAME]... [--check]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let out = join(root, "std", "weights");
let threads = "2";
let check = false;
const sets = [];
const only = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--check") check = true;
  else if (a === "--out" && args[i + 1]) out = args[++i];
  else if (a === "--threads" && args[i + 1]) threads = args[++i];
  else if (a === "--set" && args[i + 1]) sets.push("--set", args[++i]);
  else if (a === "--only" && args[i + 1]) only.push(args[++i]);
  else usage(`unknown argument \`${a}\``);
}

const backboneNames = Object.values(BACKBONES).map((b) => b.name);
for (const name of only) if (!backboneNames.includes(name)) usage(`--only ${name}: not a tiny backbone (${backboneNames.join(", ")})`);
/** the experiments of the recipe to run: all, or those of --only */
const chosen = Object.entries(BACKBONES).filter(([, { name }]) => only.length === 0 || only.includes(name));
const variantArgs = only.length ? chosen.flatMap(([experiment]) => ["--variant", `${experiment}/default`]) : [];

const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** Every file under `dir`, relative, sorted. */
function files(dir) {
  const found = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else found.push(relative(dir, join(d, e.name)).split("\\").join("/"));
    }
  };
  walk(dir);
  return found.sort();
}

/** Runs the recipe and writes the backbones and the manifest into `target`. */
function pretrain(target) {
  const work = mkdtempSync(join(tmpdir(), "mmfm-pretrain-tiny-"));
  try {
    const started = performance.now();
    const run = spawnSync(
      process.execPath,
      [join(root, "bin", "mmfmc.js"), "run", join(root, RECIPE), "--runs", join(work, "runs"), "--out", join(work, "build"), "--threads", threads, ...sets, ...variantArgs],
      { stdio: "inherit" },
    );
    if (run.status !== 0) {
      console.error(`pretrain-tiny: \`mmfmc run ${RECIPE}\` failed (exit ${run.status ?? run.signal})`);
      process.exit(run.status || 70);
    }
    const seconds = (performance.now() - started) / 1000;
    mkdirSync(target, { recursive: true });
    // `only`: the backbones this run pretrained (the others' files were there before)
    const manifest = { recipe: RECIPE, set: sets.filter((_, i) => i % 2 === 1), ...(only.length ? { only } : {}), files: {} };
    for (const [experiment, { name, part }] of chosen) {
      // the backbone as the experiment's last stage left it (a language model: pretrained, then instruction-tuned)
      const variants = join(work, "runs", experiment, "variants");
      const listed = readdirSync(variants);
      if (listed.length !== 1) throw new Error(`expected one variant of ${experiment}, found ${listed.length}`);
      const { stages } = JSON.parse(readFileSync(join(variants, listed[0]), "utf8"));
      const last = stages.filter((s) => s.kind === "stage").at(-1);
      const from = join(work, "runs", experiment, "stages", last.key, part);
      if (!existsSync(join(from, "model.safetensors"))) throw new Error(`the last stage of ${experiment} (\`${last.name}\`) left no ${part} folder in ${dirname(from)}`);
      rmSync(join(target, name), { recursive: true, force: true });
      cpSync(from, join(target, name), { recursive: true });
    }
    for (const f of files(target)) if (f !== "manifest.json") manifest.files[f] = sha256(join(target, f));
    writeFileSync(join(target, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    return seconds;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (check) {
  const shipped = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  const fresh = mkdtempSync(join(tmpdir(), "mmfm-pretrain-check-"));
  try {
    pretrain(fresh);
    const made = JSON.parse(readFileSync(join(fresh, "manifest.json"), "utf8"));
    const names = [...new Set([...Object.keys(shipped.files), ...Object.keys(made.files)])].sort();
    // with --only, the files of the backbones pretrained
    const compared = only.length ? names.filter((n) => only.some((o) => n.startsWith(`${o}/`))) : names;
    const differ = compared.filter((n) => shipped.files[n] !== made.files[n]);
    if (differ.length) {
      console.error(`pretrain-tiny: ${differ.length} file(s) differ from ${join(out, "manifest.json")}: ${differ.join(", ")}`);
      process.exit(1);
    }
    console.error(`pretrain-tiny: all ${compared.length} files${only.length ? ` of ${only.join(", ")}` : ""} equal ${join(out, "manifest.json")}`);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
} else {
  const seconds = pretrain(out);
  console.error(`pretrain-tiny: wrote ${relative(process.cwd(), out) || "."} in ${seconds.toFixed(0)} s`);
}

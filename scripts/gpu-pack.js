#!/usr/bin/env node
// Packs the GPU check (bench/gpu/check.ts) into one archive a device machine can run without npm or
// a network: `scripts/gpu-check.sh pack` calls this after `npm run build`.
//
//   node scripts/gpu-pack.js [--bundle DIR] [--level N]
//
// DIR/mmfm-gpu.tar.xz holds: `node` (this Node 20 x64, stripped), `app/dist` (the built runtime and
// bench/gpu; JavaScript only), `app/bench/runtime/decoder_step.py` (the PyTorch peer), and in
// `app/node_modules` only what the check loads: tfjs-core (its Node bundle, plus the ES-module files
// the gradient registration imports), the cpu, wasm and webgpu backends' Node bundles (and wasm's
// binaries), the `webgpu` package with its linux-x64 Dawn binary only, and seedrandom and long. No
// other platform's binaries, no ts-morph, no sharp. DIR/manifest.json says what is inside and how big.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LIMIT = 64 * 2 ** 20; // the device's working tree, all of it

function parseArgs(argv) {
  const args = { bundle: path.join(root, ".gpu-bundle"), level: 1 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--bundle") args.bundle = path.resolve(argv[++i]);
    else if (argv[i] === "--level") args.level = Number(argv[++i]);
    else throw new Error(`unknown option \`${argv[i]}\`; usage: gpu-pack.js [--bundle DIR] [--level 0-9]`);
  }
  if (!Number.isInteger(args.level) || args.level < 0 || args.level > 9) throw new Error(`--level must be 0 to 9, got \`${args.level}\``);
  return args;
}

/** Every file under `dir` (relative paths) whose name passes `keep`. */
function walk(dir, keep, prefix = "") {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...walk(dir, keep, rel));
    else if (keep(rel)) out.push(rel);
  }
  return out;
}

const INLINE_MAP = /\n\/\/# sourceMappingURL=data:[^\n]*/g;
const FILE_MAP = /\n\/\/# sourceMappingURL=[^\n]*\.map\s*$/;

/** Copies `rel` from `fromDir` to `toDir`, dropping source-map comments from JavaScript. */
function copy(fromDir, toDir, rel) {
  const src = path.join(fromDir, rel);
  const dst = path.join(toDir, rel);
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  if (rel.endsWith(".js")) fs.writeFileSync(dst, fs.readFileSync(src, "utf8").replace(INLINE_MAP, "").replace(FILE_MAP, "\n"));
  else fs.copyFileSync(src, dst);
  fs.chmodSync(dst, fs.statSync(src).mode & 0o777);
}

/** The runtime dependencies the check loads: package folder -> files to take from it. */
function dependencies() {
  const js = (f) => f.endsWith(".js");
  return {
    "@tensorflow/tfjs-core": (dir) => [
      "package.json",
      // The Node bundle, and the ES modules runtime/backend/gradients.ts imports (not the browser
      // bundles, not tests).
      ...walk(dir, (f) => f.startsWith("dist/") && js(f) && !/^dist\/tf-core\.(?!node\.js)/.test(f) && !/_test\.js$|jasmine_util\.js$/.test(f)),
    ],
    "@tensorflow/tfjs-backend-cpu": () => ["package.json", "dist/tf-backend-cpu.node.js"],
    "@tensorflow/tfjs-backend-webgpu": () => ["package.json", "dist/tf-backend-webgpu.node.js"],
    "@tensorflow/tfjs-backend-wasm": (dir) => [
      "package.json",
      "dist/tf-backend-wasm.node.js",
      ...walk(dir, (f) => (f.startsWith("dist/") && f.endsWith(".wasm") && !f.includes("/", 5)) || (f.startsWith("wasm-out/") && /\.(js|wasm)$/.test(f))),
    ],
    webgpu: () => ["package.json", "index.js", "LICENSE.md", "dist/linux-x64/dawn.node"],
    seedrandom: (dir) => ["package.json", ...walk(dir, (f) => js(f) && (!f.includes("/") || f.startsWith("lib/")) && !/^(Gruntfile|.*\.min)\.js$/.test(f))],
    long: (dir) => ["package.json", ...walk(dir, (f) => f.startsWith("src/") && js(f))],
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (process.platform !== "linux" || process.arch !== "x64" || !process.version.startsWith("v20.")) {
    throw new Error(`the device runs Linux x86-64: pack with a Node 20 x64 on Linux (this is ${process.version} ${process.platform}-${process.arch})`);
  }
  // the benchmarks are compiled with the runtime they load into bench/out/ (tsconfig.bench.json)
  const check = path.join(root, "bench/out/bench/gpu/check.js");
  if (!fs.existsSync(check)) throw new Error("bench/out/bench/gpu/check.js is missing: run `npm run build:bench` first");

  const staging = fs.mkdtempSync(path.join(os.tmpdir(), "mmfm-gpu-pack-"));
  try {
    const app = path.join(staging, "app");
    const sizes = {};
    const add = (group, fromDir, toDir, files) => {
      for (const f of files) {
        copy(fromDir, toDir, f);
        sizes[group] = (sizes[group] ?? 0) + fs.statSync(path.join(toDir, f)).size;
      }
    };
    const dist = path.join(root, "bench/out");
    add("dist", dist, path.join(app, "dist"), [
      ...walk(dist, (f) => /^(runtime|plan|core)\//.test(f) && f.endsWith(".js")),
      ...walk(dist, (f) => f.startsWith("bench/gpu/") && f.endsWith(".js")),
      "bench/runtime/decoder.js",
      "bench/runtime/safetensors_out.js",
    ]);
    add("dist", root, app, ["bench/runtime/decoder_step.py"]);
    fs.writeFileSync(path.join(app, "package.json"), `${JSON.stringify({ name: "mmfm-gpu-check", private: true, type: "module" }, null, 2)}\n`);
    const modules = path.join(root, "node_modules");
    for (const [pkg, files] of Object.entries(dependencies())) {
      const dir = path.join(modules, pkg);
      add(pkg, dir, path.join(app, "node_modules", pkg), files(dir));
    }
    const node = path.join(staging, "node");
    const strip = spawnSync("strip", ["-o", node, process.execPath]);
    if (strip.status !== 0) fs.copyFileSync(process.execPath, node);
    fs.chmodSync(node, 0o755);
    sizes.node = fs.statSync(node).size;

    fs.mkdirSync(args.bundle, { recursive: true });
    const archive = path.join(args.bundle, "mmfm-gpu.tar.xz");
    fs.rmSync(archive, { force: true });
    execFileSync("sh", ["-c", `tar -C "$1" -cf - node app | xz -T2 -${args.level} > "$2"`, "sh", staging, archive], { stdio: ["ignore", "inherit", "inherit"] });
    const size = fs.statSync(archive).size;
    let commit = null;
    try {
      commit = execFileSync("git", ["-C", root, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    } catch {
      // not a git checkout
    }
    const manifest = { created: new Date().toISOString(), commit, node: process.version, archive: path.basename(archive), bytes: size, unpackedBytes: sizes };
    fs.writeFileSync(path.join(args.bundle, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const parts = Object.entries(sizes).map(([k, v]) => `${k} ${mib(v)}`).join(", ");
    process.stderr.write(`packed ${archive}: ${mib(size)} (unpacked: ${parts})\n`);
    if (size >= LIMIT) throw new Error(`the bundle is ${mib(size)}, over the device's 64 MiB working tree`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`gpu-pack: ${e.message}\n`);
  process.exitCode = 1;
}

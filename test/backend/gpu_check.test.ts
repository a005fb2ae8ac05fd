/**
 * The GPU check as the device will run it, rehearsed here: scripts/gpu-check.sh packs the bundle
 * (under the device's 64 MiB, with only what the check loads), then runs it end to end with the
 * bundle's own Node from a folder outside the repository (so nothing resolves to the repository's
 * node_modules), at the small size, on the software adapter. Needs `bench/out/` (npm test builds it with `tsc -p tsconfig.bench.json`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { CheckResult } from "../../bench/gpu/check.js";
import { SMALL_100M, SMALL_TINY, TINY_LLAVA as CHECK_TINY_LLAVA, tinyPixels as checkPixels } from "../../bench/gpu/configs.js";
import { BEGIN, END, renderMarkdown, spliceResults } from "../../bench/gpu/report.js";
import { TINY_LLAVA, tinyPixels } from "../models/tiny.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mmfm-gpu-check-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MiB = 2 ** 20;

describe("the GPU check bundle", () => {
  let result: CheckResult;

  it("packs into one archive under 64 MiB with the repository and .gl beside it, holding only what the check loads", () => {
    const bundle = path.join(tmp, "bundle");
    const pack = spawnSync("bash", [path.join(root, "scripts/gpu-check.sh"), "pack", "--bundle", bundle], { encoding: "utf8", timeout: 300_000 });
    expect(pack.status, pack.stderr).toBe(0);
    const archive = path.join(bundle, "mmfm-gpu.tar.xz");
    const size = fs.statSync(archive).size;
    expect(size).toBeLessThan(64 * MiB);
    // What travels to the device: the tracked files, the bundle and the loader .debs (~0.4 MiB).
    const tracked = execFileSync("git", ["-C", root, "ls-files", "-z"], { encoding: "utf8" }).split("\0").filter((f) => f !== "");
    const trackedBytes = tracked.reduce((sum, f) => sum + (fs.existsSync(path.join(root, f)) ? fs.statSync(path.join(root, f)).size : 0), 0);
    expect(size + trackedBytes + 2 * MiB).toBeLessThan(64 * MiB);

    const files = execFileSync("tar", ["-tJf", archive], { encoding: "utf8", maxBuffer: 16 * MiB }).split("\n");
    for (const needed of ["node", "app/package.json", "app/dist/bench/gpu/check.js", "app/bench/runtime/decoder_step.py", "app/node_modules/webgpu/dist/linux-x64/dawn.node", "app/node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js", "app/node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js"]) {
      expect(files).toContain(needed);
    }
    const unwanted = files.filter((f) => /darwin|win32|linux-arm64|ts-morph|sharp|@img|@huggingface|chevrotain|ajv|typescript|vitest|\.map$|\.d\.ts$|_test\.js$/.test(f));
    expect(unwanted).toEqual([]);
    const manifest = JSON.parse(fs.readFileSync(path.join(bundle, "manifest.json"), "utf8")) as { bytes: number; node: string };
    expect(manifest).toMatchObject({ bytes: size, node: process.version });
  }, 300_000);

  it("runs end to end from the bundle with its own Node on the software adapter (small size)", () => {
    const work = path.join(tmp, "work");
    const out = path.join(tmp, "out");
    // (c) needs a python3 with torch: Debian's python3-torch where the PATH's python3 has none
    const python = ["python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "import torch"]).status === 0);
    const args = ["run", "--bundle", path.join(tmp, "bundle"), "--work", work, "--out", out, "--size", "small", "--software", ...(python ? ["--python", python] : [])];
    const run = spawnSync("bash", [path.join(root, "scripts/gpu-check.sh"), ...args], {
      encoding: "utf8",
      timeout: 300_000,
      cwd: tmp,
    });
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    result = JSON.parse(fs.readFileSync(path.join(out, "gpu-check.json"), "utf8")) as CheckResult;
    expect(result.host.execPath).toBe(path.join(work, "node"));
    expect(result).toMatchObject({ schema: "mmfm-gpu-check/1", size: "small", errors: [] });
    expect(result.webgpu).toMatchObject({ software: true, kind: "software" });
    expect(result.webgpu!.adapter).toMatch(/llvmpipe/);
    expect(result.webgpu!.limits.maxBufferSize).toBeGreaterThan(0);
    // (a)
    expect(result.parity).toMatchObject({ ok: true, visionFrozen: true });
    expect(result.parity!.paramsMaxRel).toBeLessThan(1e-4);
    // (b): both decoders, fused and unfused, one GPU readback (the loss) per step, memory steady
    expect(result.decoders.map((d) => d.config)).toEqual([SMALL_TINY, SMALL_100M]);
    for (const d of result.decoders) {
      for (const run of [d.webgpu!, d.webgpuUnfused!]) {
        expect(run.readbacksPerStep.gpu).toBe(1);
        expect(run.tensorsStable).toBe(true);
        expect(run.losses.length).toBe(3);
        expect(run.losses[2]).toBeLessThan(run.losses[0]);
      }
      // the fused and composed ops compute the same step
      d.webgpu!.losses.forEach((l, i) => expect(Math.abs(l - d.webgpuUnfused!.losses[i])).toBeLessThan(1e-4));
      // (c): PyTorch ran on the same weights and batch (same first loss), or the reason it did not is recorded
      if (python == null) expect(d.skipped!.some((s) => s.startsWith("PyTorch"))).toBe(true);
      else {
        expect(d.firstLossDiff!).toBeLessThan(1e-4);
        d.torch!.losses.forEach((l, i) => expect(Math.abs(l - d.webgpu!.losses[i])).toBeLessThan(1e-4));
      }
    }
    expect(result.decoders[1].webgpu!.profile!.kernels).toBeGreaterThan(100);
    // (d): every small size trains, in its own process; the limit says it was not reached
    expect(result.limit!.trials.length).toBe(2);
    expect(result.limit!.trials.every((t) => t.ok && Number.isFinite(t.loss!))).toBe(true);
    expect(result.limit!.limit).toMatch(/^not reached/);
    expect(fs.readFileSync(path.join(out, "gpu-check.md"), "utf8")).toContain("a rehearsal, not GPU numbers");
  }, 300_000);

  it("puts the results into a copy of docs/benchmarks.md between its markers", () => {
    const doc = fs.readFileSync(path.join(root, "docs/benchmarks.md"), "utf8");
    expect(doc).toContain(BEGIN);
    const copy = path.join(tmp, "benchmarks.md");
    fs.writeFileSync(copy, doc);
    const r = spawnSync(process.execPath, [path.join(root, "bench/out/bench/gpu/report.js"), path.join(tmp, "out/gpu-check.json"), "--write", copy], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const written = fs.readFileSync(copy, "utf8");
    expect(written).toBe(spliceResults(doc, renderMarkdown(result)));
    expect(written.slice(written.indexOf(BEGIN), written.indexOf(END))).toContain("llvmpipe");
    expect(written.slice(written.indexOf(END))).toBe(doc.slice(doc.indexOf(END)));
    expect(() => spliceResults("no markers", "x")).toThrow(/no `<!-- gpu-check:begin -->` \.\.\. `<!-- gpu-check:end -->` section/);
  });

  it("uses the tests' tiny LLaVA", async () => {
    expect(CHECK_TINY_LLAVA).toEqual(TINY_LLAVA);
    expect(Array.from(await checkPixels(2).data())).toEqual(Array.from(await tinyPixels(2).data()));
  });
});

/**
 * Faults in files the runtime reads (docs/reliability.md), checked without a training run: a huge
 * file that is not safetensors, a config with absurd layer counts, the lock's holder, damaged
 * checkpoints, image bombs and truncated images.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeImage, ImageDecodeError, PIXEL_LIMIT, verifyImage } from "../../runtime/data/images.js";
import { createModel, loadPretrained, saveModel } from "../../runtime/models/index.js";
import { LoadError } from "../../runtime/models/pretrained.js";
import { FileError } from "../../core/files.js";
import { bootId, LockError, processStartTicks, takeLock, thisProcess } from "../../runtime/run/lock.js";
import { resumeCheckpoint, saveCheckpoint } from "../../runtime/run/resume.js";
import { RunStore } from "../../runtime/run/store.js";
import { tf } from "../../runtime/tf.js";
import { createOptimizer } from "../../runtime/train/index.js";
import { mmfmc, repo, tempDir } from "../helpers.js";
import { TINY_GEMMA } from "../models/tiny.js";
import { deadPid } from "./helpers.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("a huge file that is not safetensors", () => {
  it("is refused from its first 8 bytes, by the loader and the runs folder's reader alike, without reading it", () => {
    const dir = tempDir("mmfm-sparse-");
    const file = join(dir, "model.safetensors");
    const first = Buffer.alloc(8);
    first.writeBigUInt64LE(2n ** 53n); // a header length no file has
    writeFileSync(file, first);
    truncateSync(file, 3 * 1024 ** 3); // sparse: 3 GiB of holes
    try {
      // in a child, to measure its peak memory: the built modules, as the command line runs them
      const script = `
        import { readHeader } from ${JSON.stringify(join(repo, "dist/runtime/weights/checkpoint.js"))};
        import { readTensors } from ${JSON.stringify(join(repo, "dist/runtime/run/tensors.js"))};
        const messages = [];
        for (const read of [readHeader, readTensors]) {
          try { await read(${JSON.stringify(file)}); messages.push("read"); } catch (e) { messages.push(e.name + ": " + e.message); }
        }
        console.log(JSON.stringify({ messages, maxRssKiB: process.resourceUsage().maxRSS }));`;
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const { messages, maxRssKiB } = JSON.parse(r.stdout);
      for (const m of messages) {
        expect(m).toContain(`SafetensorsError: ${file}: the header claims 9007199254740992 bytes but the file has 3221225472 bytes`);
        expect(m).toContain("is this a safetensors file?");
      }
      expect(maxRssKiB).toBeLessThan(400 * 1024); // the file is never read whole
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe("environment errors outside `mmfmc run`", () => {
  it("`mmfmc build` into a read-only folder: exit 1 naming the file, not an internal error", () => {
    const dir = tempDir("mmfm-robuild-");
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, "package.json"), "{}");
    writeFileSync(
      join(dir, "s.mmfm"),
      `import "std"
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
stage s { data = synthetic_shapes { size = 4 }, train = [connector], batch = 2 }
experiment e { model = m, stages = [s] }
`,
    );
    const out = join(dir, "out");
    mkdirSync(out, { mode: 0o555 });
    // a folder's permissions bind root only through another user: build as nobody when the tests run as root
    const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, [join(repo, "bin", "mmfmc.js"), "build", join(dir, "s.mmfm"), "--out", out], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, ...user });
    expect(r.status, r.stderr).toBe(1);
    const line = r.stderr.split("\n").find((l) => l.startsWith("error: cannot ")) ?? r.stderr;
    expect(line).toContain(` ${out}/e`);
    expect(line).toContain(": permission denied (EACCES)");
    expect(r.stderr).toContain("help: make the folder writable, or use another folder");
    expect(r.stderr).not.toContain("internal error");
  });
});

describe("absurd layer counts in config.json", () => {
  async function folder(layers: number): Promise<string> {
    const dir = tempDir("mmfm-layers-");
    const model = createModel(TINY_GEMMA, { seed: 1 });
    await saveModel(model, dir);
    model.dispose();
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, num_hidden_layers: layers }));
    return dir;
  }

  it.each([1e9, 1e5])("num_hidden_layers = %d is compared by count before any tensor is listed", async (layers) => {
    const dir = await folder(layers);
    const error = await loadPretrained(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadError);
    const message = (error as Error).message;
    expect(message).toContain(`the checkpoint in ${dir} does not fit its config.json: \`num_hidden_layers\` = ${layers} makes a model of ${9 * layers + 2} tensors, but the checkpoint holds 20`);
    expect(message).toContain(`help: check this value in ${join(dir, "config.json")}`);
    expect(message.length).toBeLessThan(1000);
  });

  it("a listing of missing tensors stays short at any size", async () => {
    const dir = await folder(60); // under the probe: listed, 522 missing
    const message = ((await loadPretrained(dir).catch((e: unknown) => e)) as Error).message;
    expect(message).toContain("missing (522):");
    expect(message).toContain("... and 502 more");
    expect(message.split("\n").length).toBeLessThan(30);
  });
});

describe("the lock of a runs folder", () => {
  const write = (dir: string, holder: object) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, ".lock"), JSON.stringify(holder));
  };

  it("refuses a live holder, naming the lock file to delete", () => {
    const dir = tempDir("mmfm-lock-");
    write(dir, thisProcess());
    expect(() => takeLock(dir)).toThrow(LockError);
    expect(() => takeLock(dir)).toThrow(`is using ${dir}\n  help: wait for it to finish; if no mmfmc run is using this folder, delete ${join(dir, ".lock")}`);
  });

  it("refuses a holder on another host, which it cannot check, naming the lock file to delete", () => {
    const dir = tempDir("mmfm-lock-");
    write(dir, { ...thisProcess(), host: `not-${hostname()}` });
    expect(() => takeLock(dir)).toThrow(`cannot be checked from here\n  help: wait for it to finish; if that run is gone, delete ${join(dir, ".lock")}`);
  });

  it.each([
    ["a dead pid", () => ({ ...thisProcess(), pid: deadPid() })],
    ["a live pid that started at another time (reused, as PID 1 in a restarted container)", () => ({ ...thisProcess(), startTicks: processStartTicks(process.pid)! + 1 })],
    ["a live pid from before a reboot", () => ({ ...thisProcess(), boot: `not-${bootId()}` })],
  ])("takes over the lock of %s", (_, holder) => {
    const dir = tempDir("mmfm-lock-");
    write(dir, holder());
    const stale: string[] = [];
    const release = takeLock(dir, (m) => stale.push(m));
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatch(/^took over the lock of a run that is gone \(pid \d+ on /);
    expect(JSON.parse(readFileSync(join(dir, ".lock"), "utf8")).pid).toBe(process.pid);
    release();
    expect(() => readFileSync(join(dir, ".lock"))).toThrow(/ENOENT/);
  });
});

describe("damaged checkpoints", () => {
  async function stage() {
    const store = new RunStore(tempDir("mmfm-ckpt-"));
    const model = createModel(TINY_GEMMA, { seed: 1 });
    const optimizer = createOptimizer({ lr: 1e-3 }, model.parameters);
    const log = (n: number) => Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1), lr: 1e-3, gradNorm: 1, seconds: i }));
    const saved = new Map<number, Float32Array>();
    for (const step of [2, 4]) {
      const w = model.parameters.get("model.norm.weight")!;
      w.assign(tf.fill(w.shape, step));
      saved.set(step, (await w.data()) as Float32Array);
      await saveCheckpoint(store, "k", step, { model, optimizer, log: log(step) });
    }
    return { store, model, optimizer, saved };
  }

  it("a damaged pointer: resumes from the newest checkpoint folder that loads, and repairs the pointer", async () => {
    const { store, model, optimizer } = await stage();
    writeFileSync(join(store.stageDir("k"), "checkpoint.json"), "{\"step\": 4, \"di");
    const notes: string[] = [];
    const resumed = await resumeCheckpoint(store, "k", { model, optimizer, stage: "s" }, (m) => notes.push(m));
    expect(resumed?.step).toBe(4);
    expect(resumed?.log).toHaveLength(4);
    expect(notes).toEqual(["stage `s`: resuming from the checkpoint at step 4 instead"]);
    expect(store.committedStep("k")).toBe(4);
  });

  it("damaged latest weights: falls back on the previous checkpoint, restoring its values, and says why", async () => {
    const { store, model, optimizer, saved } = await stage();
    const params = join(store.checkpointDir("k", 4), "params.safetensors");
    writeFileSync(params, readFileSync(params).subarray(0, 1000));
    model.parameters.get("model.norm.weight")!.assign(tf.fill([16], 99));
    const notes: string[] = [];
    const resumed = await resumeCheckpoint(store, "k", { model, optimizer, stage: "s" }, (m) => notes.push(m));
    expect(resumed?.step).toBe(2);
    expect(notes[0]).toContain(`stage \`s\`: passed over a damaged checkpoint: ${store.checkpointDir("k", 4)}: ${params}: the header claims`);
    expect(notes[1]).toBe("stage `s`: resuming from the checkpoint at step 2 instead");
    expect(await model.parameters.get("model.norm.weight")!.data()).toEqual(saved.get(2));
    expect(store.checkpoints("k").map((c) => c.step)).toEqual([2]); // the damaged one is gone
  });

  it("nothing loads: an error naming each checkpoint's fault and what to delete", async () => {
    const { store, model, optimizer } = await stage();
    for (const step of [2, 4]) writeFileSync(join(store.checkpointDir("k", step), "log.json"), "[1, 2");
    const error = await resumeCheckpoint(store, "k", { model, optimizer, stage: "s" }, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileError);
    const dir = store.stageDir("k");
    expect((error as Error).message).toContain(`cannot resume stage \`s\`: no checkpoint in ${dir} loads:`);
    expect((error as Error).message).toContain(`${join(dir, "checkpoint-2", "log.json")} is not valid JSON`);
    expect((error as Error).message).toContain(`help: delete ${join(dir, "checkpoint.json")} and the checkpoint-* folders in ${dir} to train the stage from the start`);
  });
});

/** A PNG of `width` x `height` with a valid header and one row of pixels: enough to be judged by its size. */
function headerOnlyPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = deflateSync(Buffer.alloc(1 + width * 3)); // filter byte, then black pixels
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", row), chunk("IEND", Buffer.alloc(0))]);
}

describe("images", () => {
  it("refuses an image above Pillow's pixel limit (2 x 89,478,485) from its header, with its size", async () => {
    const dir = tempDir("mmfm-bomb-");
    const over = join(dir, "over.png");
    writeFileSync(over, headerOnlyPng(3_033_169, 59)); // 178,956,971 pixels: one more than Pillow accepts
    const expected = `the image ${over} is 3033169x59 = 178,956,971 pixels, more than the 178,956,970 pixels Pillow accepts`;
    await expect(decodeImage(over)).rejects.toThrow(expected);
    await expect(verifyImage(over)).rejects.toThrow(expected);
    // exactly at the limit the size is accepted (and this file fails for missing rows)
    const at = join(dir, "at.png");
    writeFileSync(at, headerOnlyPng(14_351, 12_470));
    expect(14_351 * 12_470).toBe(PIXEL_LIMIT);
    const error = await verifyImage(at).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageDecodeError);
    expect((error as Error).message).not.toContain("Pillow accepts");
  });

  async function truncatedJpeg(dir: string): Promise<string> {
    const raw = Buffer.alloc(128 * 128 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i >> 9)) & 255;
    const jpeg = await sharp(raw, { raw: { width: 128, height: 128, channels: 3 } }).jpeg().toBuffer();
    const path = join(dir, "cut.jpg");
    writeFileSync(path, jpeg.subarray(0, jpeg.length >> 1));
    return path;
  }

  it("keeps libvips's reason when truncated images fail together (its shared error buffer loses it)", async () => {
    const path = await truncatedJpeg(tempDir("mmfm-cut-"));
    const results = await Promise.allSettled(Array.from({ length: 24 }, () => decodeImage(path)));
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason.message).toBe(`cannot decode the image ${path}: VipsJpeg: premature end of JPEG image`);
    }
  });

  it("`mmfmc data check --decode` decodes each image fully and reports a truncated one with the reason", async () => {
    const dir = tempDir("mmfm-check-");
    await truncatedJpeg(dir);
    const conversation = [{ from: "human", value: "<image>\nQ" }, { from: "gpt", value: "A" }];
    writeFileSync(join(dir, "d.json"), JSON.stringify([{ id: "a", image: "cut.jpg", conversations: conversation }]));
    const decoded = mmfmc(["data", "check", join(dir, "d.json"), "--images", dir, "--decode"]);
    expect(decoded.status, decoded.stderr).toBe(1);
    expect(decoded.stderr).toContain(`d.json: sample 0 (id \`a\`), field \`image\`: cannot decode the image ${join(dir, "cut.jpg")}: VipsJpeg: premature end of JPEG image`);
    expect(decoded.stdout).toContain("unreadable-image\t1");
  });
});

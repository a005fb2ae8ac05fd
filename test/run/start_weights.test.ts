/**
 * Cached stages follow the files a variant starts from, not only their paths: a cache key covers a
 * `weights` folder as written, so after the files behind it change (std/weights regenerated, a new
 * checkpoint copied over the old one) every stage computed from the old files is computed again,
 * with a note naming what changed, and nothing is recomputed while they stay the same.
 */
import { cpSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { changedFiles, fingerprint } from "../../runtime/run/fingerprint.js";
import { mmfmc, repo, tempDir } from "../helpers.js";

const shipped = join(repo, "std", "weights");

const SPEC = `import "std"
vision v   = tiny_clip_vit_untrained { weights = "w/vision" }
language l = tiny_gemma_2b_untrained { weights = "w/language" }
model m { vision = v, connector = mlp2x_gelu, language = l, template = "gemma" }
dataset train = synthetic_shapes { split = "train", size = 8 }
dataset test  = synthetic_shapes { split = "test", size = 3 }
stage first  { data = train, train = [connector], epochs = 1, batch = 4, checkpoint_every = 0 }
stage second { data = train, train = [connector, language], epochs = 1, batch = 4, lr = 1e-4, checkpoint_every = 0 }
eval answers { data = [test], max_new_tokens = 2, batch = 3 }
experiment e {
  model  = m
  stages = [first, second, answers]
  ablate { second.lr: [1e-4, 3e-4] }
}
`;

/** A workspace with copies of two shipped backbones as the spec's weights. */
function workspace(): string {
  const work = tempDir("mmfm-start-");
  cpSync(join(shipped, "tiny_clip_vit"), join(work, "w", "vision"), { recursive: true });
  cpSync(join(shipped, "tiny_gemma_2b"), join(work, "w", "language"), { recursive: true });
  writeFileSync(join(work, "e.mmfm"), SPEC);
  return work;
}

function run(work: string) {
  const r = mmfmc(["run", "e.mmfm", "--runs", "runs", "--out", "build"], { cwd: work });
  expect(r.stderr + r.stdout).toMatch(/✓ 2 variants/);
  expect(r.status).toBe(0);
  const summary = /(\d+) stages? trained, (\d+) evaluated, (\d+) cached/.exec(r.stderr + r.stdout);
  expect(summary).not.toBeNull();
  return { output: r.stderr + r.stdout, trained: Number(summary![1]), evaluated: Number(summary![2]), cached: Number(summary![3]) };
}

/** Changes the lowest mantissa byte of one float32 near the end of a safetensors file (still valid). */
function nudge(path: string): void {
  const bytes = readFileSync(path);
  const at = bytes.length - 400; // data is 4-byte aligned and ends the file: the lowest byte of a float
  bytes[at] ^= 1;
  writeFileSync(path, bytes);
  const later = new Date(Date.now() + 5_000); // a different modification time even on a coarse clock
  utimesSync(path, later, later);
}

describe("cached stages and the files a variant starts from", () => {
  it("computes again every stage started from files that have changed since, and only those", () => {
    const work = workspace();
    const fresh = run(work);
    expect([fresh.trained, fresh.evaluated, fresh.cached]).toEqual([3, 2, 1]); // `first` is shared
    const stages = join(work, "runs", "e", "stages");
    for (const key of readdirSync(stages)) {
      const start = JSON.parse(readFileSync(join(stages, key, "start.json"), "utf8")) as { digest: string; files: Record<string, string> };
      expect(Object.keys(start.files)).toContain("vision/model.safetensors");
      expect(Object.keys(start.files)).toContain("language/tokenizer.json");
    }
    expect(existsSync(join(work, "runs", "e", "start-hashes.json"))).toBe(true);

    // unchanged files: everything cached, no note
    const again = run(work);
    expect([again.trained, again.evaluated]).toEqual([0, 0]);
    expect(again.output).not.toMatch(/other starting files/);

    // the same bytes written again (a new time, same content): still cached
    const config = join(work, "w", "vision", "config.json");
    writeFileSync(config, readFileSync(config));
    const touched = run(work);
    expect([touched.trained, touched.evaluated]).toEqual([0, 0]);

    // one weight of the vision tower changed: every stage of both variants is computed again
    nudge(join(work, "w", "vision", "model.safetensors"));
    const changed = run(work);
    expect([changed.trained, changed.evaluated]).toEqual([3, 2]);
    expect(changed.output).toMatch(/stage first of e\/1e-4 was computed from other starting files than the ones there now \(changed: vision\/model\.safetensors\); its result and those of the 2 stages after it were removed and are computed again/);
    // the second variant's own stages were left by the old `first`: removed too, not reused
    expect(changed.output).toMatch(/stage second of e\/3e-4 was computed from other starting files .*; its result and those of the stage after it were removed/);
    expect(run(work).trained).toBe(0);
  });
});

describe("the fingerprint of the starting files", () => {
  it("depends on the files' contents and roles, not on where the folders lie", () => {
    const a = tempDir("mmfm-fp-");
    cpSync(join(shipped, "tiny_gemma_2b"), join(a, "lm"), { recursive: true });
    const b = tempDir("mmfm-fp-");
    cpSync(join(shipped, "tiny_gemma_2b"), join(b, "elsewhere", "model"), { recursive: true });
    const here = fingerprint([{ role: "language", dir: join(a, "lm") }], null);
    const there = fingerprint([{ role: "language", dir: join(b, "elsewhere", "model") }], join(b, "cache.json"));
    expect(there.digest).toBe(here.digest);
    // the same files in another role are another start
    expect(fingerprint([{ role: "vision", dir: join(a, "lm") }], null).digest).not.toBe(here.digest);
    // an added file counts
    writeFileSync(join(a, "lm", "extra.txt"), "x");
    const added = fingerprint([{ role: "language", dir: join(a, "lm") }], null);
    expect(changedFiles(here.files, added.files)).toEqual(["language/extra.txt"]);
    // a missing folder is an empty one (the loader reports it)
    expect(fingerprint([{ role: "language", dir: join(a, "absent") }], null).files).toEqual({});
  });

  it("reads a file again only when its size or time changed", () => {
    const dir = tempDir("mmfm-fp-");
    writeFileSync(join(dir, "w.bin"), "one");
    const cache = join(dir, "..", `${dir.split("/").pop()}-cache.json`);
    const first = fingerprint([{ role: "language", dir }], cache);
    const cached = JSON.parse(readFileSync(cache, "utf8")) as { files: Record<string, { sha256: string }> };
    // a digest in the cache is trusted while size and time match (this is what makes a 7B start cheap)
    cached.files[join(dir, "w.bin")].sha256 = "0".repeat(64);
    writeFileSync(cache, JSON.stringify(cached));
    expect(fingerprint([{ role: "language", dir }], cache).files["language/w.bin"]).toBe("0".repeat(64));
    // same size, new time: read again
    writeFileSync(join(dir, "w.bin"), "two");
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(dir, "w.bin"), later, later);
    const now = fingerprint([{ role: "language", dir }], cache);
    expect(now.files["language/w.bin"]).not.toBe("0".repeat(64));
    expect(now.digest).not.toBe(first.digest);
  });
});

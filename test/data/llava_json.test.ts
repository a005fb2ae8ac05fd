/** The streaming scan of LLaVA json files, sample parsing, and the errors for malformed samples. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError } from "../../runtime/data/errors.js";
import { scanJsonArray } from "../../runtime/data/json_scan.js";
import { moveImageTokenToFront, openLlavaJson, parseSample } from "../../runtime/data/llava_json.js";
import { Rng } from "../../runtime/data/prng.js";

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "mmfm-llava-json-"));
  const png = await sharp({ create: { width: 4, height: 3, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
  writeFileSync(join(root, "a.png"), png);
  writeFileSync(join(root, "b.png"), png);
  writeFileSync(join(root, "text.jpg"), "not really a jpeg\n");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

/** A random JSON value with strings full of brackets, quotes, escapes and non-ASCII text. */
function randomValue(rng: Rng, depth: number): unknown {
  const kind = rng.int(depth > 3 ? 4 : 6);
  const pieces = ['"', "\\", "[", "]", "{", "}", ",", ":", "é", "😀", "\n", "a", " ", "image", "\u0000"];
  switch (kind) {
    case 0:
      return Array.from({ length: rng.int(8) }, () => rng.pick(pieces)).join("");
    case 1:
      return rng.int(2000) - 1000 + (rng.next() < 0.5 ? 0.25 : 0);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return -1.5e-7;
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: rng.int(4) }, (_, k) => [`${rng.pick(pieces)}${k}`, randomValue(rng, depth + 1)]));
  }
}

describe("scanJsonArray", () => {
  it("finds every element of random JSON, for any chunk size, without parsing the file", async () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 12; trial++) {
      const values = Array.from({ length: 1 + rng.int(20) }, () => randomValue(rng, 0));
      const text = trial % 2 === 0 ? JSON.stringify(values) : JSON.stringify(values, null, trial % 4);
      const path = write(`random${trial}.json`, text);
      for (const chunkBytes of [1, 3, 7, 64, 1 << 20]) {
        const seen: unknown[] = [];
        const index = await scanJsonArray(path, { chunkBytes, onElement: (bytes) => seen.push(JSON.parse(new TextDecoder().decode(bytes))) });
        expect(index.count).toBe(values.length);
        expect(seen).toEqual(values);
        const buf = Buffer.from(text, "utf8");
        for (let i = 0; i < index.count; i++) {
          expect(JSON.parse(buf.subarray(index.starts[i], index.ends[i]).toString("utf8"))).toEqual(values[i]);
          expect(index.lines[i]).toBe(buf.subarray(0, index.starts[i]).toString("utf8").split("\n").length);
        }
      }
    }
  });

  it("notes which samples have a top-level image that is not null", async () => {
    const path = write(
      "images.json",
      '\ufeff[{"image": "a.png"}, {"image": null}, {"id": "x", "conversations": [{"image": "nested"}]}, {"images": "b"}, {"a": {"image": 1}}, {"image" : "\\"x"}]',
    );
    const index = await scanJsonArray(path, { chunkBytes: 5 });
    expect(Array.from(index.hasImage)).toEqual([1, 0, 0, 0, 0, 1]);
  });

  const broken: [string, string, RegExp][] = [
    ["missing comma", '[{"a": 1}\n {"b": 2}]', /broken\.json: sample 1, line 2, byte 11: expected `,` or `]`, found `\{`/],
    ["truncated", '[{"a": 1}, {"b": "x', /the file ends inside a string/],
    ["unclosed array", '[{"a": 1},\n', /ends before the top-level array is closed/],
    ["not an array", '{"a": 1}', /expected the file to start with `\[`/],
    ["mismatched bracket", '[{"a": [1, 2}]', /`}` does not match the open `\[`/],
    ["trailing garbage", '[{"a": 1}] x', /unexpected `x` after the end of the top-level array/],
    ["trailing comma", '[{"a": 1},]', /expected a value, found `\]`/],
    ["empty file", "", /the file is empty/],
    ["missing colon", '[{"a" 1}]', /expected `:` after an object key/],
  ];
  for (const [name, text, message] of broken) {
    it(`reports broken JSON with the byte and line: ${name}`, async () => {
      const path = write("broken.json", text);
      const error = await scanJsonArray(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).reason).toBe("broken-json");
      expect((error as DataError).message).toMatch(message);
    });
  }
});

describe("parseSample: LLaVA's preprocessing", () => {
  const ctx = { file: "f.json", index: 4, imagesDir: "/data" };
  it("moves `<image>` to the front as preprocess_multimodal does", () => {
    expect(moveImageTokenToFront("What is this?\n<image>")).toBe("<image>\nWhat is this?");
    expect(moveImageTokenToFront("<image>")).toBe("<image>");
    expect(moveImageTokenToFront("a <image> b <image>")).toBe("<image>\na  b");
    expect(moveImageTokenToFront("no image")).toBe("no image");
  });

  it("skips a leading non-human turn, maps roles and resolves the image path", () => {
    const s = parseSample(
      {
        id: 17,
        image: "coco/1.jpg",
        conversations: [
          { from: "gpt", value: "hello" },
          { from: "human", value: "Describe it.\n<image>" },
          { from: "gpt", value: "A cat." },
          { from: "human", value: "Colour?" },
          { from: "gpt", value: "Black." },
        ],
      },
      ctx,
    );
    expect(s.id).toBe("17");
    expect(s.image).toBe("/data/coco/1.jpg");
    expect(s.turns).toEqual([
      { role: "user", text: "<image>\nDescribe it." },
      { role: "assistant", text: "A cat." },
      { role: "user", text: "Colour?" },
      { role: "assistant", text: "Black." },
    ]);
    expect(s.imageTokenAdded).toBe(false);
  });

  it("adds `<image>` to an image sample without one (or rejects it on request)", () => {
    const sample = { image: "a.png", conversations: [{ from: "human", value: "What?" }, { from: "gpt", value: "A." }] };
    const s = parseSample(sample, ctx);
    expect(s.turns[0].text).toBe("<image>\nWhat?");
    expect(s.imageTokenAdded).toBe(true);
    expect(() => parseSample(sample, { ...ctx, imageWithoutToken: "error" })).toThrow(/f\.json: sample 4, field `conversations\[0\]\.value`: the sample has an `image` but no `<image>`/);
  });

  const bad: [string, unknown, RegExp][] = [
    ["not an object", [1, 2], /sample 4: a sample must be an object, found an array/],
    ["no conversations", { id: "x" }, /sample 4 \(id `x`\), field `conversations`: the sample has no `conversations`/],
    ["a turn without value", { id: "x", conversations: [{ from: "human" }] }, /field `conversations\[0\]\.value`: expected a string, found undefined/],
    ["an unknown speaker", { conversations: [{ from: "system", value: "x" }] }, /field `conversations\[0\]\.from`: unknown speaker `system`/],
    ["no reply", { id: "q", conversations: [{ from: "human", value: "Q?" }] }, /sample 4 \(id `q`\), field `conversations\[0\]`: the last human turn has no reply/],
    ["a reply missing in the middle", { conversations: [{ from: "human", value: "Q" }, { from: "human", value: "Q2" }] }, /field `conversations\[1\]\.from`: turns must alternate/],
    ["empty conversations", { conversations: [] }, /the conversation is empty/],
    ["`<image>` without an image", { conversations: [{ from: "human", value: "<image>\nQ" }, { from: "gpt", value: "A" }] }, /field `conversations\[0\]\.value`: the text has `<image>` but the sample has no `image`/],
    [
      "`<image>` in two turns",
      { image: "a.png", conversations: [{ from: "human", value: "<image>" }, { from: "gpt", value: "<image>" }] },
      /`<image>` appears in 2 turns/,
    ],
    ["a list of images", { image: ["a.png"], conversations: [{ from: "human", value: "<image>" }, { from: "gpt", value: "A" }] }, /field `image`: expected a file name, found an array/],
  ];
  for (const [name, value, message] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => parseSample(value, ctx)).toThrow(message);
    });
  }
});

const SAMPLES = [
  { id: "s0", image: "a.png", conversations: [{ from: "human", value: "What?\n<image>" }, { from: "gpt", value: "A." }] },
  { id: "s1", conversations: [{ from: "human", value: "Text only?" }, { from: "gpt", value: "Yes." }] },
  { id: "s2", image: "missing.png", conversations: [{ from: "human", value: "<image>\nQ" }, { from: "gpt", value: "A" }] },
  { id: "s3", conversations: [{ from: "human", value: "No reply" }] },
  { id: "s4", image: "text.jpg", conversations: [{ from: "human", value: "<image>\nQ" }, { from: "gpt", value: "A" }] },
  { id: "s5", image: "b.png", conversations: [{ from: "human", value: "Where?" }, { from: "gpt", value: "Here." }] },
];

describe("openLlavaJson", () => {
  it("serves valid samples lazily and decodes their images", async () => {
    const path = write("good.json", JSON.stringify([SAMPLES[0], SAMPLES[1], SAMPLES[5]], null, 2));
    const ds = await openLlavaJson(path, root);
    expect(ds.length).toBe(3);
    expect([ds.hasImage(0), ds.hasImage(1), ds.hasImage(2)]).toEqual([true, false, true]);
    expect(ds.stats).toMatchObject({ samples: 3, kept: 3, withImage: 2, textOnly: 1, skipped: 0, imageTokenAdded: 1, validated: true });
    const s0 = await ds.get(0);
    expect(s0.turns[0].text).toBe("<image>\nWhat?");
    const img = await ds.loadImage(s0);
    expect([img.width, img.height, img.data[0], img.data[1], img.data[2]]).toEqual([4, 3, 10, 20, 30]);
    expect((await ds.get(1)).image).toBeUndefined();
    await expect(ds.get(3)).rejects.toThrow(/sample 3 is out of range: good\.json has 3 samples/);
  });

  it("stops at the first invalid sample by default, naming file, sample, id and field", async () => {
    const path = write("mixed.json", JSON.stringify(SAMPLES));
    await expect(openLlavaJson(path, root)).rejects.toThrow(/mixed\.json: sample 2 \(id `s2`\), field `image`: the image file does not exist: .*missing\.png/);
  });

  it("skips invalid samples when asked, and counts them by reason", async () => {
    const path = write("mixed.json", JSON.stringify(SAMPLES));
    const ds = await openLlavaJson(path, root, { onInvalid: "skip", checkImages: "decode" });
    expect(ds.stats.skippedByReason).toEqual({ "missing-image": 1, "no-reply": 1, "unreadable-image": 1 });
    expect(ds.stats.skipped).toBe(3);
    expect(ds.length).toBe(3);
    expect([0, 1, 2].map((i) => ds.fileIndex(i))).toEqual([0, 1, 5]);
    expect((await ds.get(2)).id).toBe("s5");
    expect(ds.stats.examples.join("\n")).toMatch(/sample 4 \(id `s4`\), field `image`: cannot decode the image .*text\.jpg/);
  });

  it("without validation, a bad sample fails when it is read, and a bad image when it is loaded", async () => {
    const text = JSON.stringify([SAMPLES[0], SAMPLES[3], SAMPLES[4]], null, 1).replace('"id": "s0"', '"id": tru');
    const path = write("lazy.json", text);
    const ds = await openLlavaJson(path, root, { validate: false });
    expect(ds.length).toBe(3);
    expect(ds.stats.validated).toBe(false);
    // V8 gives no position for this error: the line and byte are where the sample starts
    await expect(ds.get(0)).rejects.toThrow(/^lazy\.json: sample 0, line 2, byte 3: invalid JSON: Unexpected token ','$/);
    await expect(ds.get(1)).rejects.toThrow(/sample 1 \(id `s3`\).*no reply/);
    const s = await ds.get(2);
    await expect(ds.loadImage(s)).rejects.toMatchObject({ reason: "unreadable-image", index: 2, id: "s4", field: "image" });
  });

  it("counts each sample's words as LLaVA's modality_lengths does: every turn as written, split on whitespace", async () => {
    const samples = [
      // a leading gpt turn is skipped for training but counted; `<image>` where written counts as written
      { id: "w0", image: "a.png", conversations: [{ from: "gpt", value: "hello there" }, { from: "human", value: "What  is\tthis?<image>" }, { from: "gpt", value: "A cat." }] },
      { id: "w1", conversations: [{ from: "human", value: "Say   nothing" }, { from: "gpt", value: "" }] },
      { id: "w2", image: "b.png", conversations: [{ from: "human", value: "<image>\nDescribe it." }, { from: "gpt", value: "One two three four" }] },
    ];
    const path = write("words.json", JSON.stringify(samples));
    // 2 + 3 + 2; 2 + 0; 3 + 4
    const expected = [7, 2, 7];
    const validated = await openLlavaJson(path, root);
    expect(Array.from(await validated.wordCounts())).toEqual(expected);
    expect((await validated.get(0)).words).toBe(7);
    const lazy = await openLlavaJson(path, root, { validate: false });
    expect(Array.from(await lazy.wordCounts())).toEqual(expected);
    // skipped samples leave the dataset's numbering: counts follow it
    const mixed = write("words_mixed.json", JSON.stringify([samples[0], { id: "bad", conversations: [] }, samples[2]]));
    const kept = await openLlavaJson(mixed, root, { onInvalid: "skip" });
    expect(Array.from(await kept.wordCounts())).toEqual([7, 7]);
  });

  it("reports structural errors of the whole file with line and byte", async () => {
    const path = write("cut.json", JSON.stringify(SAMPLES, null, 1).slice(0, 200));
    await expect(openLlavaJson(path, root)).rejects.toThrow(/cut\.json: sample \d+, line \d+, byte 200: the file ends/);
  });
});

/** The synthetic shapes generator, its scorer, and the whole data path on its files. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { memoryOutput } from "../../cli/output.js";
import { collate } from "../../runtime/data/collate.js";
import { IGNORE_INDEX } from "../../runtime/data/constants.js";
import { decodeImage } from "../../runtime/data/images.js";
import { openLlavaJson } from "../../runtime/data/llava_json.js";
import { prepareSample } from "../../runtime/data/prepare.js";
import { clipProcessor } from "../../runtime/data/processor.js";
import { generateShapes, makeScene, renderScene, type Scene, SHAPE_COLOURS, writeShapesDataset } from "../../runtime/data/shapes.js";
import { normaliseShapesAnswer, scoreShapes, type ShapesItemsFile } from "../../runtime/data/shapes_score.js";
import { loadTokenizer } from "../../runtime/data/tokenizer.js";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "mmfm-shapes-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The answer a question must have, worked out from the scene by the test itself. */
function expectedAnswer(scene: Scene, question: string): string {
  const objs = scene.objects;
  let m: RegExpExecArray | null;
  if ((m = /^What color is the (circle|square|triangle)\?$/.exec(question))) return objs.filter((o) => o.kind === m![1]).map((o) => o.colour).join("|");
  if ((m = /^What color is the shape at the (.+)\?$/.exec(question))) return objs.find((o) => o.position === m![1])?.colour ?? "?";
  if ((m = /^What shape is the (\w+) object\?$/.exec(question))) return objs.find((o) => o.colour === m![1])?.kind ?? "?";
  if (question === "How many shapes are there?") return String(objs.length);
  if ((m = /^How many (circle|square|triangle)s are there\?$/.exec(question))) return String(objs.filter((o) => o.kind === m![1]).length);
  if ((m = /^Where is the (\w+) (\w+)\?$/.exec(question))) return objs.find((o) => o.colour === m![1] && o.kind === m![2])?.position ?? "?";
  if ((m = /^Is there an? (\w+) (\w+)\?$/.exec(question))) return objs.some((o) => o.colour === m![1] && o.kind === m![2]) ? "yes" : "no";
  return `unknown question: ${question}`;
}

describe("generateShapes", () => {
  const data = generateShapes({ seed: 5, train: 60, test: 40, imageSize: 32 });

  it("answers every question correctly about its image", () => {
    for (const item of data.items.items) {
      const scene = data.scenes.get(item.image) as Scene;
      expect(expectedAnswer(scene, item.question)).toBe(item.answer);
      expect(item.prompt).toBe(`<image>\n${item.question}\nAnswer the question using a single word or phrase.`);
    }
    for (const sample of data.train.filter((s) => s.image)) {
      const scene = data.scenes.get(sample.image as string) as Scene;
      for (let k = 0; k < sample.conversations.length; k += 2) {
        const question = sample.conversations[k].value.replace("<image>\n", "").split("\n")[0];
        expect(expectedAnswer(scene, question)).toBe(sample.conversations[k + 1].value);
      }
    }
  });

  it("scenes have 1-4 shapes of distinct colours in distinct cells, drawn in their colour", () => {
    const counts = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const scene = makeScene(5, "train", i, 32);
      counts.add(scene.objects.length);
      expect(new Set(scene.objects.map((o) => o.colour)).size).toBe(scene.objects.length);
      expect(new Set(scene.objects.map((o) => o.position)).size).toBe(scene.objects.length);
      const img = renderScene(scene, 32);
      for (const o of scene.objects) {
        const x = Math.floor(o.shape.cx);
        const y = Math.floor(o.shape.cy + (o.kind === "triangle" ? o.shape.size * 0.2 : 0));
        expect(Array.from(img.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3))).toEqual([...SHAPE_COLOURS[o.colour]]);
      }
    }
    expect([...counts].sort()).toEqual([1, 2, 3, 4]);
  });

  it("is deterministic, depends on the seed, and keeps the first samples when more are asked for", () => {
    const again = generateShapes({ seed: 5, train: 60, test: 40, imageSize: 32 });
    expect(JSON.stringify(again.train)).toBe(JSON.stringify(data.train));
    expect(JSON.stringify(again.items)).toBe(JSON.stringify(data.items));
    expect(JSON.stringify(generateShapes({ seed: 6, train: 60, test: 40 }).train)).not.toBe(JSON.stringify(data.train));
    const more = generateShapes({ seed: 5, train: 80, test: 40, imageSize: 32 });
    expect(more.train.slice(0, 60).filter((s) => s.image)).toEqual(data.train.slice(0, 60));
  });

  it("balances the test question types and needs the image (no answer dominates a type)", () => {
    const scores = scoreShapes(data.items.items.map((i) => ({ ...i, prediction: i.answer })));
    expect(scores.accuracy).toBe(100);
    expect(Object.keys(scores.perType)).toEqual(["color", "count", "position", "shape", "yesno"]);
    for (const t of Object.values(scores.perType)) expect(t.count).toBe(16);
    const big = generateShapes({ seed: 1, train: 0, test: 500 });
    const blind = scoreShapes(big.items.items.map((i) => ({ ...i, prediction: i.answer })));
    for (const [type, b] of Object.entries(blind.majorityBaseline)) expect(b.accuracy, type).toBeLessThan(65);
  });

  it("has text-only samples and captions", () => {
    expect(data.train.filter((s) => !s.image).length).toBe(3); // 5% of 60
    expect(data.pretrain.length).toBe(60);
    for (const p of data.pretrain) {
      expect(p.conversations[0].value).toContain("<image>");
      expect(p.conversations[1].value).toMatch(/^(one|two|three|four) shapes?: an? \w+ (circle|square|triangle) at the (top|bottom) (left|right)/);
    }
  });
});

describe("scoreShapes", () => {
  it("normalises case, punctuation, articles and number words", () => {
    expect(normaliseShapesAnswer("Red.")).toBe("red");
    expect(normaliseShapesAnswer("  The top-left!")).toBe("top left");
    expect(normaliseShapesAnswer("Two")).toBe("2");
    expect(normaliseShapesAnswer("Yes, it is")).toBe("yes it is");
  });

  it("reports accuracy overall and per type, in percent", () => {
    const items = [
      { question_id: "a", type: "color", answer: "red", prediction: "Red." },
      { question_id: "b", type: "color", answer: "blue", prediction: "green" },
      { question_id: "c", type: "count", answer: "2", prediction: "two" },
      { question_id: "d", type: "yesno", answer: "no", prediction: "yes" },
    ];
    const s = scoreShapes(items);
    expect([s.correct, s.count, s.accuracy]).toEqual([2, 4, 50]);
    expect(s.perType.color).toEqual({ accuracy: 50, correct: 1, count: 2 });
    expect(s.perType.count.accuracy).toBe(100);
    expect(s.perType.yesno.accuracy).toBe(0);
    expect(s.majorityBaseline.color).toEqual({ answer: "blue", accuracy: 50 });
    expect(() => scoreShapes([{ question_id: "z", type: "color", answer: "red" }])).toThrow(/item 0 \(`z`\) has no `prediction`/);
  });
});

describe("the data path on the written files", () => {
  it("writes files that open as llava_json, decode, tokenize with the gemma template and collate", async () => {
    const dir = join(root, "ds");
    const summary = await writeShapesDataset(dir, { seed: 3, train: 16, test: 4, imageSize: 16 });
    expect(summary).toMatchObject({ images: 20, trainSamples: 17, textOnlySamples: 1, pretrainSamples: 16, testItems: 8 });
    const items = JSON.parse(readFileSync(join(dir, "test_items.json"), "utf8")) as ShapesItemsFile;
    expect(items.benchmark).toBe("synthetic_shapes");
    const img = await decodeImage(join(dir, items.items[0].image));
    expect([img.width, img.height]).toEqual([16, 16]);

    const tokenizer = await loadTokenizer(join(dir, "tokenizer"));
    expect([tokenizer.bosId, tokenizer.imageTokenId]).toEqual([2, 6]);
    for (const [file, template] of [
      ["train.json", "gemma"],
      ["pretrain.json", "plain"],
      ["test.json", "gemma"],
    ] as const) {
      const ds = await openLlavaJson(join(dir, file), dir);
      expect(ds.stats.skipped).toBe(0);
      const pipeline = { tokenizer, template, maxLength: 256, imageTokens: 4, processor: clipProcessor(16), aspect: "pad" as const };
      const samples = await Promise.all(Array.from({ length: ds.length }, (_, i) => prepareSample(ds, i, pipeline)));
      for (const s of samples) {
        expect(s.mismatch).toBe(false);
        expect(s.truncated).toBe(false);
        const trained = Array.from(s.inputIds).filter((_, k) => s.labels[k] !== IGNORE_INDEX);
        const sample = await ds.get(s.index);
        const answers = sample.turns.filter((t) => t.role === "assistant").map((t) => t.text);
        const expected = template === "gemma" ? answers.map((a) => `${a}<end_of_turn>\n`).join("") : `${answers[0]}\n`;
        expect(tokenizer.decode(trained)).toBe(expected);
      }
      const batch = collate(samples.slice(0, 5), { padId: tokenizer.unkId as number, maxLength: 256, imageSize: { height: 16, width: 16 } });
      expect(batch.pixelValues.length).toBe(5 * 3 * 16 * 16);
      expect(batch.imageCount).toBe(samples.slice(0, 5).filter((s) => s.pixelValues).length);
    }
  });
});

describe("mmfmc data", () => {
  it("`shapes` writes the dataset and says so on stderr", async () => {
    const dir = join(root, "cli");
    const out = memoryOutput();
    const code = await main(["data", "shapes", "--out", dir, "--train", "6", "--test", "2", "--image", "16", "--seed", "4"], out);
    expect(code).toBe(0);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(/✓ synthetic_shapes written in [\d.]+s \(.*cli\): 6 train images/);
    for (const f of ["train.json", "pretrain.json", "test.json", "test_items.json", "meta.json", "tokenizer/tokenizer.json", "images/train/00005.png", "images/test/00001.png"]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const check = memoryOutput();
    expect(await main(["data", "check", join(dir, "train.json"), "--images", dir, "--decode"], check)).toBe(0);
    expect(check.stderr).toMatch(/✓ 6 samples \(6 with an image, 0 text-only\) checked in [\d.]+s: all valid/);
  });

  it("`check` lists invalid samples and exits 1; bad usage exits 2", async () => {
    const bad = join(root, "bad.json");
    writeFileSync(bad, JSON.stringify([{ id: "x", conversations: [{ from: "human", value: "Q" }] }, { id: "y", image: "nope.png", conversations: [{ from: "human", value: "<image>" }, { from: "gpt", value: "A" }] }]));
    const out = memoryOutput();
    expect(await main(["data", "check", bad, "--images", root], out)).toBe(1);
    expect(out.stderr).toMatch(/error: bad\.json: sample 0 \(id `x`\), field `conversations\[0\]`: the last human turn has no reply/);
    expect(out.stderr).toMatch(/error: bad\.json: sample 1 \(id `y`\), field `image`: the image file does not exist/);
    expect(out.stdout).toBe("no-reply\t1\nmissing-image\t1\n");
    expect(out.stderr).toMatch(/✗ 2 samples .*: 2 invalid/);
    const usage = memoryOutput();
    expect(await main(["data", "shapes", "--out", join(root, "x"), "--train", "many"], usage)).toBe(2);
    expect(usage.stderr).toMatch(/option `--train` needs an integer in 0\.\.10000000, got `many`/);
    expect(await main(["data", "shapes"], memoryOutput())).toBe(2);
    expect(await main(["data", "frobnicate"], memoryOutput())).toBe(2);
  });
});

// The controls beside a synthetic shapes score: the majority baseline per question type (numbers
// worked out by hand), and the image-blind control: an eval stage answers every question a second
// time with blank images (all zeros after normalisation), into answers files of its own that resume
// like the real ones, and scores them under `NAME.blind.*`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile, planExperiments } from "../../compiler/pipeline.js";
import { scoreShapes, type ShapesItem, type TextTokenizer } from "../../runtime/data/index.js";
import type { PretrainedModel } from "../../runtime/models/index.js";
import { blankImage, controlMetric, controlOf, majorityMetrics, shapesMetrics } from "../../runtime/run/controls.js";
import { shapesItems, tokenizerFor } from "../../runtime/run/data.js";
import { evalStage, type Generator } from "../../runtime/run/eval.js";
import { RunStore } from "../../runtime/run/store.js";
import type { EvalStagePlan, Plan, SyntheticShapesPlan } from "../../plan/plan.js";
import { tf } from "../../runtime/tf.js";
import { tempDir } from "../helpers.js";

const item = (type: string, answer: string, prediction: string, k: number) => ({ question_id: `q${k}`, type, answer, prediction });

describe("the majority baseline", () => {
  // color: red red blue (red: 2 of 3); shape: circle square square triangle (square: 2 of 4);
  // count: 2 (1 of 1). Over all 8 items: 2 + 2 + 1 = 5 right.
  const items = [
    ["color", "red"],
    ["color", "Red."],
    ["color", "blue"],
    ["shape", "circle"],
    ["shape", "square"],
    ["shape", "a square"],
    ["shape", "triangle"],
    ["count", "two"],
  ].map(([type, answer], k) => item(type, answer, "nothing", k));

  it("is each type's most common answer's accuracy, and over all items their sum of hits", () => {
    const m = majorityMetrics(scoreShapes(items));
    expect(m.color).toBeCloseTo(200 / 3, 12);
    expect(m.shape).toBe(50);
    expect(m.count).toBe(100);
    expect(m.accuracy).toBe(62.5);
    // the overall is not the mean of the types (72.2): each item counts once
    expect(Object.keys(m)).toEqual(["accuracy", "color", "count", "shape"]);
  });

  it("breaks ties by the first answer in alphabetical order, and is 0 without items", () => {
    const tie = majorityMetrics(scoreShapes([item("color", "red", "x", 0), item("color", "blue", "x", 1)]));
    expect(tie).toEqual({ accuracy: 50, color: 50 });
    expect(scoreShapes([item("color", "red", "x", 0), item("color", "blue", "x", 1)]).majorityBaseline.color.answer).toBe("blue");
    expect(majorityMetrics(scoreShapes([]))).toEqual({ accuracy: 0 });
  });

  it("sits beside the scores of the real answers, which it does not change", () => {
    const scored = items.map((it, k) => ({ ...it, prediction: k < 3 ? it.answer : "square" }));
    // right: the three colors, shape items 4 and 5 ("square", "a square"): 5 of 8
    expect(shapesMetrics(scoreShapes(scored))).toEqual({ accuracy: 62.5, color: 100, count: 0, shape: 50 });
  });
});

describe("control metric names", () => {
  it("put the control between the benchmark and the metric, and read back", () => {
    expect(controlMetric("shapes_test.accuracy", "blind")).toBe("shapes_test.blind.accuracy");
    expect(controlMetric("shapes_test.color", "majority")).toBe("shapes_test.majority.color");
    expect(controlOf("shapes_test.blind.color")).toEqual({ metric: "shapes_test.color", control: "blind" });
    expect(controlOf("a.b.majority.accuracy")).toEqual({ metric: "a.b.accuracy", control: "majority" });
    expect(controlOf("shapes_test.color")).toBeNull();
    expect(controlOf("blind.accuracy")).toBeNull();
  });

  it("use a blank image of zeros: the backbone's mean colour after normalisation", () => {
    const blank = blankImage(4);
    expect(blank).toHaveLength(3 * 4 * 4);
    expect(blank.every((x) => x === 0)).toBe(true);
  });
});

describe("an eval stage on the synthetic shapes", () => {
  const QUESTIONS = 10;
  let plan: Plan;
  let stage: EvalStagePlan;
  let tokenizer: TextTokenizer;
  let specDir: string;
  let items: ShapesItem[];

  beforeAll(async () => {
    await tf.setBackend("cpu");
    specDir = tempDir("mmfm-controls-");
    writeFileSync(join(specDir, "package.json"), "{}");
    const spec = join(specDir, "blind.mmfm");
    writeFileSync(
      spec,
      `import "std"
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
eval answers { data = [shapes_test { size = ${QUESTIONS} }], max_new_tokens = 4, batch = 3 }
experiment blind { model = m, stages = [answers], seed = 1 }
`,
    );
    const compilation = compile(spec);
    expect(compilation.diagnostics.hasErrors).toBe(false);
    plan = planExperiments(compilation, { specPath: spec, outDir: join(specDir, "build") })[0].plans[0];
    stage = plan.stages[0] as EvalStagePlan;
    expect(stage.data[0].name).toBe("shapes_test");
    const data = { specDir, cacheDir: join(specDir, "data") };
    tokenizer = await tokenizerFor(plan, data);
    items = (await shapesItems(stage.data[0] as SyntheticShapesPlan, data)).items;
    expect(items).toHaveLength(QUESTIONS);
  });

  /**
   * Answers as a model that sees would: the truth for every other question when the images are
   * real, and `red` to all when they are blank. Records how many questions of each kind it got.
   */
  function seeing(asked: { real: number; blind: number }): Generator {
    return async (_model, options) => {
      const pixels = options.pixelValues!.dataSync();
      const rows = options.inputIds.shape[0];
      const blank = pixels.every((x) => x === 0);
      return Array.from({ length: rows }, () => {
        const k = blank ? asked.blind++ : asked.real++;
        const reply = blank ? "red" : k % 2 === 0 ? items[k].answer : "nothing";
        return [...tokenizer.encodeText(reply), tokenizer.tokenId("<end_of_turn>")!];
      });
    };
  }

  function run(store: RunStore, generator: Generator) {
    return evalStage({
      model: {} as PretrainedModel,
      plan,
      stage,
      aspect: "crop",
      store,
      data: { specDir, cacheDir: join(specDir, "data") },
      tokenizer,
      variant: plan.id,
      weightsFrom: null,
      emit: () => {},
      generator,
    });
  }

  it("scores the real answers, the blind answers and the majority baseline side by side", async () => {
    const store = new RunStore(tempDir("mmfm-controls-runs-"));
    const dir = store.stageDir(stage.cache_key);
    const asked = { real: 0, blind: 0 };
    const record = await run(store, seeing(asked));
    expect(asked).toEqual({ real: QUESTIONS, blind: QUESTIONS });
    // the expected numbers, counted here from the items
    const percent = (hits: number, n: number) => (100 * hits) / n;
    const types = [...new Set(items.map((i) => i.type))].sort();
    const ofType = (t: string) => items.flatMap((it, k) => (it.type === t ? [{ it, k }] : []));
    const expected: Record<string, number> = {};
    expected["shapes_test.accuracy"] = percent(Math.ceil(QUESTIONS / 2), QUESTIONS);
    for (const t of types) expected[`shapes_test.${t}`] = percent(ofType(t).filter(({ k }) => k % 2 === 0).length, ofType(t).length);
    let majorityHits = 0;
    for (const t of types) {
      const counts = new Map<string, number>();
      for (const { it } of ofType(t)) counts.set(it.answer, (counts.get(it.answer) ?? 0) + 1);
      const best = Math.max(...counts.values());
      majorityHits += best;
      expected[`shapes_test.majority.${t}`] = percent(best, ofType(t).length);
    }
    expected["shapes_test.majority.accuracy"] = percent(majorityHits, QUESTIONS);
    expected["shapes_test.blind.accuracy"] = percent(items.filter((i) => i.answer === "red").length, QUESTIONS);
    for (const t of types) expected[`shapes_test.blind.${t}`] = percent(ofType(t).filter(({ it }) => it.answer === "red").length, ofType(t).length);
    expect(Object.keys(record.metrics!).sort()).toEqual(Object.keys(expected).sort());
    for (const [m, v] of Object.entries(expected)) expect(record.metrics![m], m).toBeCloseTo(v, 10);
    expect(record.metrics!["shapes_test.blind.accuracy"]).toBeLessThan(record.metrics!["shapes_test.accuracy"]);
    // the blind answers: a LLaVA answers file and an items file of their own
    const blindLines = readFileSync(join(dir, "shapes_test.blind.answers.jsonl"), "utf8").split("\n").filter(Boolean);
    expect(blindLines.map((l) => JSON.parse(l).text)).toEqual(Array(QUESTIONS).fill("red"));
    expect(blindLines.map((l) => JSON.parse(l).question_id)).toEqual(items.map((i) => i.question_id));
    const realLines = readFileSync(join(dir, "shapes_test.answers.jsonl"), "utf8").split("\n").filter(Boolean);
    expect(realLines.map((l) => JSON.parse(l).text)).toEqual(items.map((it, k) => (k % 2 === 0 ? it.answer : "nothing")));
    const blindItems = JSON.parse(readFileSync(join(dir, "shapes_test.blind.items.json"), "utf8")).items;
    expect(blindItems.map((i: ShapesItem) => i.prediction)).toEqual(Array(QUESTIONS).fill("red"));
    const scores = JSON.parse(readFileSync(join(dir, "scores.json"), "utf8"));
    expect(Object.keys(scores)).toEqual(["shapes_test", "shapes_test.blind"]);
    expect(scores["shapes_test.blind"].accuracy).toBe(expected["shapes_test.blind.accuracy"]);
  });

  it("resumes the blind answers from their file: none asked again, none lost", async () => {
    const full = new RunStore(tempDir("mmfm-controls-runs-"));
    const whole = await run(full, seeing({ real: 0, blind: 0 }));
    const fullDir = full.stageDir(stage.cache_key);
    // a crash after every real answer and four blind ones
    const store = new RunStore(tempDir("mmfm-controls-runs-"));
    const dir = store.stageDir(stage.cache_key);
    mkdirSync(dir, { recursive: true });
    const blind = readFileSync(join(fullDir, "shapes_test.blind.answers.jsonl"), "utf8");
    writeFileSync(join(dir, "shapes_test.answers.jsonl"), readFileSync(join(fullDir, "shapes_test.answers.jsonl")));
    writeFileSync(join(dir, "shapes_test.blind.answers.jsonl"), blind.split("\n").slice(0, 4).join("\n") + "\n");
    const asked = { real: 0, blind: 4 };
    const resumed = await run(store, seeing(asked));
    expect(asked).toEqual({ real: 0, blind: QUESTIONS });
    expect(readFileSync(join(dir, "shapes_test.blind.answers.jsonl"), "utf8")).toBe(blind);
    expect(resumed.metrics).toEqual(whole.metrics);
  });
});

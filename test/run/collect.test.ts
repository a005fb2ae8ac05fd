// `mmfmc collect` on an export of the fixture study (test/fixtures/llava_eval/export.mmfm): answers
// files made by hand give exactly the numbers `mmfmc score` gives for the same predictions; missing
// answers are pending; VQAv2 test-dev gets its upload file; a local run's answers files give the
// local run's numbers and the same report layout. The local run's model scores above zero.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { answerLine } from "../../runtime/benchmarks/answers.js";
import { loadBenchmark, toScoringItems, type BenchmarkName } from "../../runtime/benchmarks/index.js";
import { answerPrompt } from "../../runtime/run/eval.js";
import { mmfmc, repo, tempDir } from "../helpers.js";

const fixtures = join(repo, "test", "fixtures", "llava_eval");
const benchmarks: [string, BenchmarkName][] = [
  ["gqa", "gqa"],
  ["pope", "pope"],
  ["mme", "mme"],
  ["scienceqa_img", "scienceqa_img"],
  ["vqav2", "vqav2"],
];

/** Per variant and benchmark, the answers in question order. */
const made: Record<string, Record<string, string[]>> = {
  "2e-5": {
    gqa: ["yes", "no", "blue", "Blue."],
    pope: ["Yes", "No", "No.", "Yes, there is", "yes", "no"],
    mme: ["Yes", "No", "Yes", "Yes", "No", "No", "Yes", "No"],
    scienceqa_img: ["A", "B", "A"],
    vqav2: ["red", "one", "no"],
  },
  "1e-5": {
    gqa: ["Yes.", "yes", "red", "red"],
    pope: ["yes", "yes", "yes", "yes", "yes", "yes"],
    mme: ["No", "No", "No", "Yes", "Yes", "No", "Yes", "Yes"],
    scienceqa_img: ["The answer is A.", "C", "B"],
    vqav2: ["Red", "2", "Yes"],
  },
};

async function writeAnswers(results: string, variant: string, name: BenchmarkName, texts: readonly string[], options: { drop?: number; reverse?: boolean } = {}) {
  const loaded = await loadBenchmark(name, { root: fixtures });
  let lines = loaded.items.map((item, i) =>
    answerLine({ question_id: item.questionId, prompt: answerPrompt(item), text: texts[i], answer_id: `id${i}`, model_id: "llava-gemma", metadata: {} }),
  );
  if (options.drop) lines = lines.slice(0, lines.length - options.drop);
  if (options.reverse) lines = lines.reverse();
  const dir = join(results, variant, "2-bench");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name === "scienceqa_img" ? "scienceqa_img" : name}.jsonl`), lines.join(""));
  return loaded;
}

/** The headline numbers `mmfmc score --json` gives for an items file, under the report's metric names. */
function scored(benchmark: BenchmarkName, itemsFile: string): Record<string, number> {
  const r = mmfmc(["score", benchmark, itemsFile, "--json"]);
  expect(r.status, r.stderr).toBe(0);
  const s = JSON.parse(r.stdout).expected;
  const finite = (o: Record<string, number | null>) => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === "number" && Number.isFinite(v))) as Record<string, number>;
  return finite(headlineOf(benchmark, s));
}

function headlineOf(benchmark: BenchmarkName, s: Record<string, any>): Record<string, number | null> { // eslint-disable-line @typescript-eslint/no-explicit-any
  switch (benchmark) {
    case "gqa":
      return { "gqa.accuracy": s.accuracy };
    case "pope":
      return { "pope.accuracy": s.mean_over_categories.accuracy, "pope.f1": s.mean_over_categories.f1 };
    case "mme":
      return { "mme.perception": s.perception_total, "mme.cognition": s.cognition_total };
    case "scienceqa_img":
      return { "scienceqa_img.img_accuracy": s.img_acc };
    default:
      return {};
  }
}

describe("mmfmc collect", () => {
  const work = tempDir("mmfm-collect-");
  const out = join(work, "export");
  const results = join(out, "study", "results");

  beforeAll(() => {
    const r = mmfmc(["export", join(fixtures, "export.mmfm"), "--target", "llava", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
  });

  it("lists every benchmark as pending before any answers exist", () => {
    const r = mmfmc(["collect", out, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      variants: [
        { id: "study/2e-5", axes: { "tune.lr": "2e-5" }, metrics: {}, pending: ["gqa", "pope", "mme", "scienceqa_img", "vqav2"] },
        { id: "study/1e-5", axes: { "tune.lr": "1e-5" }, metrics: {}, pending: ["gqa", "pope", "mme", "scienceqa_img", "vqav2"] },
      ],
    });
    expect(r.stderr).toContain(`pending 2e-5 gqa: no answers file (looked for ${join(results, "2e-5", "2-bench", "gqa.jsonl")})`);
  });

  it("gives exactly the numbers `mmfmc score` gives for the same predictions", async () => {
    const expected: Record<string, Record<string, number>> = {};
    for (const [variant, byBench] of Object.entries(made)) {
      expected[variant] = {};
      for (const [, benchmark] of benchmarks) {
        // MME's answers in reverse order: collect matches them by question id and prompt, as convert_answer_to_mme.py does
        const loaded = await writeAnswers(results, variant, benchmark, byBench[benchmark], { reverse: benchmark === "mme" });
        if (benchmark === "vqav2") continue;
        const itemsFile = join(work, `${variant}-${benchmark}.items.json`);
        writeFileSync(itemsFile, JSON.stringify(toScoringItems(loaded.items, byBench[benchmark])));
        Object.assign(expected[variant], scored(benchmark, itemsFile));
      }
    }
    const r = mmfmc(["collect", out, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.variants.map((v: { id: string }) => v.id)).toEqual(["study/2e-5", "study/1e-5"]);
    expect(json.variants[0].metrics).toEqual(expected["2e-5"]);
    expect(json.variants[1].metrics).toEqual(expected["1e-5"]);
    expect(json.variants[0].pending).toEqual([]);
    // the numbers are not all alike: the two variants differ where their answers do
    expect(expected["2e-5"]["gqa.accuracy"]).toBe(75);
    expect(expected["1e-5"]["gqa.accuracy"]).toBe(50);
    expect(expected["2e-5"]["pope.f1"]).toBe(1);
    expect(expected["2e-5"]["mme.perception"]).not.toBe(expected["1e-5"]["mme.perception"]);

    // VQAv2 test-dev has no answers: the EvalAI upload instead of a score
    const upload = join(out, "study", "collected", "2e-5", "2-bench", "vqav2.submission.json");
    expect(JSON.parse(readFileSync(upload, "utf8"))).toEqual([
      { question_id: 1001000, answer: "red" },
      { question_id: 1001001, answer: "1" },
      { question_id: 1002000, answer: "no" },
      { question_id: 1003000, answer: "" },
    ]);
    expect(r.stderr).toContain(`2e-5 vqav2: no ground truth (VQAv2 test-dev); submission written to ${upload}`);

    // the report: as a local run's, with the per-axis effect of tune.lr
    const report = JSON.parse(readFileSync(join(out, "study", "report.json"), "utf8"));
    expect(report.effects["tune.lr"]["1e-5 vs 2e-5"]["mme.perception"].mean).toBe(expected["1e-5"]["mme.perception"] - expected["2e-5"]["mme.perception"]);
    const md = readFileSync(join(out, "study", "report.md"), "utf8");
    expect(md).toContain(`| submission written: ${upload} |`);
    expect(existsSync(join(out, "study", "report.csv"))).toBe(true);
    expect(existsSync(join(out, "study", "loss.svg"))).toBe(false); // no training logs come back
  });

  it("lists a benchmark whose answers are not complete as pending, and reads --results and --data elsewhere", async () => {
    const elsewhere = join(work, "elsewhere");
    cpSync(results, elsewhere, { recursive: true });
    await writeAnswers(elsewhere, "1e-5", "pope", made["1e-5"].pope, { drop: 2 });
    // --data may name the folder holding playground/data/eval, or that eval folder itself
    const r = mmfmc(["collect", join(out, "study"), "--results", elsewhere, "--data", join(fixtures, "playground", "data", "eval"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout).variants[1];
    expect(v.pending).toEqual(["pope"]);
    expect(Object.keys(v.metrics)).not.toContain("pope.accuracy");
    expect(r.stderr).toContain(`pending 1e-5 pope: 4 of 6 questions answered in ${join(elsewhere, "1e-5", "2-bench", "pope.jsonl")}`);
  });

  it("says what is wrong with an export folder or an answers file (exit 1)", () => {
    const r = mmfmc(["collect", work]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${work} holds no exported variants (no VARIANT/plan.json)`);
    const bad = join(work, "bad-results");
    mkdirSync(join(bad, "2e-5", "2-bench"), { recursive: true });
    writeFileSync(join(bad, "2e-5", "2-bench", "gqa.jsonl"), "not json\n{}\n");
    const b = mmfmc(["collect", out, "--results", bad]);
    expect(b.status).toBe(1);
    expect(b.stderr).toContain(`${join(bad, "2e-5", "2-bench", "gqa.jsonl")}: line 1 is not valid JSON`);
    expect(mmfmc(["collect"]).status).toBe(2);
    const help = mmfmc(["collect", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("usage: mmfmc collect EXPORT_DIR [--results DIR] [--data DIR]");
    expect(mmfmc(["--help"]).stdout).toMatch(/\n {2}collect +score the answers of exported evaluation jobs/);
  });
});

describe("a local run on the benchmark fixtures, and collect on its answers", () => {
  it("trains a tiny model that scores above zero, and collect gives the same numbers in the same report layout", () => {
    const work = tempDir("mmfm-e2e-");
    const runs = join(work, "runs");
    const r = mmfmc(["run", join(fixtures, "run.mmfm"), "--runs", runs, "--out", join(work, "build"), "--backend", "wasm"]);
    expect(r.status, r.stderr).toBe(0);
    const local = JSON.parse(readFileSync(join(runs, "fixtures", "report.json"), "utf8"));
    const metrics = local.variants[0].metrics as Record<string, number>;
    // the model learned to answer the GQA questions it was trained on: not all wrong
    expect(metrics["gqa.accuracy"]).toBeGreaterThan(0);
    expect(local.variants[0].unscored.vqav2).toMatch(/^submission written: .*vqav2\.submission\.json$/);

    // the run's answers files, as the exported jobs would leave them
    const out = join(work, "export");
    expect(mmfmc(["export", join(fixtures, "export.mmfm"), "--target", "llava", "--out", out]).status).toBe(0);
    const evalKey = readdirSync(join(runs, "fixtures", "stages")).find((k) => existsSync(join(runs, "fixtures", "stages", k, "gqa.answers.jsonl")))!;
    for (const variant of ["2e-5", "1e-5"]) {
      const dir = join(out, "study", "results", variant, "2-bench");
      mkdirSync(dir, { recursive: true });
      for (const [name] of benchmarks) cpSync(join(runs, "fixtures", "stages", evalKey, `${name}.answers.jsonl`), join(dir, `${name}.jsonl`));
    }
    const c = mmfmc(["collect", out, "--json"]);
    expect(c.status, c.stderr).toBe(0);
    const collected = JSON.parse(c.stdout).variants[0].metrics;
    const exported = Object.fromEntries(Object.entries(metrics).filter(([m]) => !m.startsWith("mmvp.")));
    expect(collected).toEqual(exported);

    // the same report: its sections, and a results table of variants by metric
    const runMd = readFileSync(join(runs, "fixtures", "report.md"), "utf8");
    const collectMd = readFileSync(join(out, "study", "report.md"), "utf8");
    const headings = (md: string) => md.split("\n").filter((l) => l.startsWith("## "));
    expect(headings(collectMd)).toEqual(headings(runMd));
    expect(headings(runMd)).toEqual(["## Results", "## Difference against the baseline", "## Average effect of each axis", "## Not scored", "## Stages"]);
    const header = (md: string) => md.split("\n").find((l) => l.startsWith("| variant |"))!;
    expect(header(collectMd)).toBe(`| variant | tune.lr | ${Object.keys(exported).join(" | ")} |`);
    expect(header(runMd)).toBe(`| variant | ${Object.keys(metrics).join(" | ")} |`);
  });
});

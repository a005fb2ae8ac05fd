/**
 * `mmfmc collect`: the results of an exported study, back from the cluster. The export folder holds
 * each variant's plan (`VARIANT/plan.json`); the exported evaluation jobs leave LLaVA's answers files
 * at `$RESULTS/VARIANT/N-STAGE/NAME.jsonl` (N the stage's 1-based position, NAME the dataset's name).
 * Each benchmark's answers are matched to its questions (loaded from LLaVA's layout under the data
 * root), scored by mmfm's scorers (the official rules) and reported with the same headline metrics
 * and the same report as a local run. A benchmark without a complete answers file is pending.
 *
 *   EXPERIMENT/report.md .csv .json                       the report
 *   EXPERIMENT/collected/VARIANT/N-STAGE/NAME.items.json  every item with its prediction (`mmfmc score` format)
 *   EXPERIMENT/collected/VARIANT/N-STAGE/scores.json      the full scores
 *   EXPERIMENT/collected/VARIANT/N-STAGE/NAME.submission.json   VQAv2 without answers: the EvalAI upload
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { writeAtomic } from "../../core/files.js";
import { readPlan } from "../../plan/io.js";
import type { BenchmarkPlan, EvalStagePlan, Plan } from "../../plan/plan.js";
import { parseAnswers, type ReadAnswer } from "../benchmarks/answers.js";
import { headline } from "../benchmarks/headline.js";
import { benchmarkName, loadBenchmark, score, toScoringItems, type BenchmarkName, type EvalItem } from "../benchmarks/index.js";
import { answerPrompt, vqav2Upload } from "./eval.js";
import type { ReportSource } from "./report.js";
import type { LogLine } from "./store.js";

export class CollectError extends Error {}

export interface CollectOptions {
  /** `$RESULTS` of the exported scripts; default: `results` in the experiment's export folder (env.sh's default) */
  readonly results?: string;
  /** the root the benchmarks' relative paths start from; default: the one the export used (the spec's folder) */
  readonly data?: string;
}

/** One benchmark of one eval stage of one variant. */
export interface CollectedBenchmark {
  readonly name: string;
  readonly stage: string;
  /** the answers file read, or the one looked for first */
  readonly answers: string;
  readonly status: "scored" | "submission" | "pending";
  /** why it is pending, or the submission's path */
  readonly detail?: string;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface CollectedVariant {
  readonly id: string;
  readonly folder: string;
  readonly axes: Readonly<Record<string, string>>;
  /** `<dataset>.<metric>`, as a local run's report */
  readonly metrics: Readonly<Record<string, number>>;
  /** datasets without a score yet (no answers, or not all questions answered) */
  readonly pending: readonly string[];
  readonly benchmarks: readonly CollectedBenchmark[];
  readonly plan: Plan;
}

export interface CollectedExperiment {
  readonly name: string;
  /** the experiment's export folder (the report is written here) */
  readonly dir: string;
  readonly results: string;
  readonly variants: readonly CollectedVariant[];
  /** the report's source: the variants, and a record per eval stage key with its metrics */
  readonly source: ReportSource;
}

/** The experiment folders of an export: `dir` itself when it holds variants' plans, else its sub-folders that do. */
export function experimentFolders(dir: string): string[] {
  const holdsPlans = (d: string) => readdirSync(d).some((e) => existsSync(join(d, e, "plan.json")));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CollectError(`${dir} is not a folder; give the folder \`mmfmc export --out\` wrote, or one experiment's folder in it`);
  if (holdsPlans(dir)) return [dir];
  const found = readdirSync(dir)
    .map((e) => join(dir, e))
    .filter((d) => statSync(d).isDirectory() && holdsPlans(d))
    .sort();
  if (found.length === 0) {
    throw new CollectError(`${dir} holds no exported variants (no VARIANT/plan.json); export with \`mmfmc export FILE --target llava --out DIR\` first`);
  }
  return found;
}

/** Variant folders in the order of the grid (`train.sbatch`'s array), else by name. */
function variantOrder(dir: string, folders: readonly string[]): string[] {
  const sbatch = join(dir, "train.sbatch");
  if (existsSync(sbatch)) {
    const m = /^variants=\(\n([\s\S]*?)\n\)/m.exec(readFileSync(sbatch, "utf8"));
    const listed = m ? m[1].split("\n").map((l) => l.trim().replace(/^["']|["']$/g, "")) : [];
    if (listed.length) return [...listed.filter((f) => folders.includes(f)), ...folders.filter((f) => !listed.includes(f)).sort()];
  }
  return [...folders].sort();
}

/** The data root `mmfmc export --data DIR` wrote into env.sh (`DATA_DIR=...`), if any. */
function bakedDataDir(dir: string): string | undefined {
  const env = join(dir, "env.sh");
  if (!existsSync(env)) return undefined;
  const m = /\|\| DATA_DIR=(.*)$/m.exec(readFileSync(env, "utf8"));
  if (!m) return undefined;
  const word = m[1].trim();
  // a shell word as the export writes it: bare, or in single quotes ('\'' for a quote)
  const value = word.startsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word.replace(/^"|"$/g, "");
  return value ? resolve(dir, value) : undefined;
}

/**
 * Where a benchmark path of the spec is: relative to the data root. For the std paths
 * (`playground/data/eval/...`) a root that is `playground`, `playground/data` or
 * `playground/data/eval` itself is accepted too.
 */
function locate(root: string, path: string): string {
  if (isAbsolute(path)) return path;
  const direct = resolve(root, path);
  if (existsSync(direct) || !path.startsWith("playground/data/eval/")) return direct;
  for (const prefix of ["playground/", "playground/data/", "playground/data/eval/"]) {
    const shorter = resolve(root, path.slice(prefix.length));
    if (existsSync(shorter)) return shorter;
  }
  return direct;
}

/** Which answer answers each item: by question id; several answers to one id (MME) by prompt, then in file order. */
function matchAnswers(items: readonly EvalItem[], answers: readonly ReadAnswer[]): (string | undefined)[] {
  const byId = new Map<string, ReadAnswer[]>();
  for (const a of answers) {
    const key = String(a.questionId);
    byId.set(key, [...(byId.get(key) ?? []), a]);
  }
  return items.map((item) => {
    const candidates = byId.get(String(item.questionId));
    if (!candidates?.length) return undefined;
    const prompt = answerPrompt(item);
    const index = candidates.length > 1 ? Math.max(0, candidates.findIndex((a) => a.prompt === prompt)) : 0;
    const [chosen] = candidates.splice(index, 1);
    return chosen.text;
  });
}

interface StageSlot {
  readonly plan: Plan;
  readonly folder: string;
  readonly index: number;
  readonly stage: EvalStagePlan;
}

async function collectBenchmark(
  slot: StageSlot,
  slots: readonly StageSlot[],
  data: BenchmarkPlan,
  results: string,
  root: string,
  outDir: string,
): Promise<CollectedBenchmark & { items?: unknown; scores?: unknown }> {
  const name = data.name ?? data.family;
  const stageFolder = `${slot.index + 1}-${slot.stage.name}`;
  const benchmark = benchmarkName(data.family) as BenchmarkName;
  // the variant's own answers, else those of a variant sharing the stage (same key, run once)
  const names = [...new Set([name, data.family, benchmark])];
  const sharing = [slot, ...slots.filter((s) => s !== slot && s.stage.cache_key === slot.stage.cache_key && s.index === slot.index)];
  const candidates = sharing.flatMap((s) => names.map((n) => join(results, s.folder, `${s.index + 1}-${s.stage.name}`, `${n}.jsonl`)));
  const found = candidates.find((p) => existsSync(p));
  const base = { name, stage: slot.stage.name, answers: found ?? candidates[0], metrics: {} };
  if (!found) return { ...base, status: "pending", detail: `no answers file (looked for ${candidates[0]})` };
  const parsed = parseAnswers(readFileSync(found, "utf8"), found);
  const loaded = await loadBenchmark(benchmark, {
    annotations: locate(root, data.annotations),
    images: locate(root, data.images),
    limit: data.size ?? undefined,
    checkImages: false,
  });
  const texts = matchAnswers(loaded.items, parsed.answers);
  const answered = texts.filter((t) => t !== undefined).length;
  if (answered < loaded.items.length) {
    return { ...base, status: "pending", detail: `${answered} of ${loaded.items.length} questions answered in ${found}` };
  }
  const predictions = texts as string[];
  const items = loaded.items;
  const dir = join(outDir, "collected", slot.folder, stageFolder);
  if (benchmark === "vqav2" && items.some((i) => i.scoring === null)) {
    const upload = await vqav2Upload(items as EvalItem<"vqav2">[], new Map(items.map((it, i) => [it.id, predictions[i]])), loaded.files.submissionSplit);
    const path = join(dir, `${name}.submission.json`);
    writeAtomic(path, upload.text);
    return { ...base, status: "submission", detail: path, scores: { submission: path, questions: items.length, complete: upload.complete } };
  }
  const scoring = toScoringItems(items, predictions, { description: `mmfm collect ${slot.plan.id}` });
  const scores = score(benchmark, scoring.items);
  writeAtomic(join(dir, `${name}.items.json`), JSON.stringify(scoring, null, 1) + "\n");
  return { ...base, status: "scored", metrics: headline(benchmark, scores), items: scoring, scores };
}

/** Reads one experiment's export folder and its answers. */
export async function collectExperiment(dir: string, options: CollectOptions = {}): Promise<CollectedExperiment> {
  const folders = readdirSync(dir).filter((e) => existsSync(join(dir, e, "plan.json")));
  const plans = variantOrder(dir, folders).map((folder) => ({ folder, plan: readPlan(join(dir, folder, "plan.json")) }));
  const experiment = plans[0].plan.experiment;
  const results = resolve(options.results ?? join(dir, "results"));
  const slots: StageSlot[] = plans.flatMap(({ plan, folder }) => plan.stages.flatMap((stage, index) => (stage.kind === "eval" ? [{ plan, folder, index, stage }] : [])));
  const records = new Map<string, { variant: string; metrics: Record<string, number>; submissions: Record<string, string>; status: string }>();
  const variants: CollectedVariant[] = [];
  for (const { plan, folder } of plans) {
    if (plan.experiment !== experiment) throw new CollectError(`${join(dir, folder, "plan.json")} is a variant of \`${plan.experiment}\`, not of \`${experiment}\` like the others in ${dir}`);
    // the data root: --data, else the one the export baked into env.sh (`export --data`), else the spec's folder
    const root = options.data ? resolve(options.data) : (bakedDataDir(dir) ?? resolve(dir, folder, plan.source.dir));
    const metrics: Record<string, number> = {};
    const pending: string[] = [];
    const benchmarks: CollectedBenchmark[] = [];
    for (const slot of slots.filter((s) => s.plan === plan)) {
      const record = { variant: plan.id, metrics: {} as Record<string, number>, submissions: {} as Record<string, string>, status: "collected" };
      const all: Record<string, unknown> = {};
      for (const data of slot.stage.data) {
        if (data.family === "synthetic_shapes") {
          pending.push(data.name ?? data.family);
          benchmarks.push({ name: data.name ?? data.family, stage: slot.stage.name, answers: "", status: "pending", detail: "synthetic shapes are evaluated by `mmfmc run`, not exported", metrics: {} });
          continue;
        }
        const b = await collectBenchmark(slot, slots, data, results, root, dir);
        const { items: _items, scores, ...summary } = b;
        benchmarks.push(summary);
        if (scores) all[b.name] = scores;
        for (const [m, v] of Object.entries(b.metrics)) metrics[`${b.name}.${m}`] = record.metrics[`${b.name}.${m}`] = v;
        if (b.status === "submission") record.submissions[b.name] = b.detail!;
        if (b.status === "pending") pending.push(b.name);
      }
      const done = slot.stage.data.length - slot.stage.data.filter((d) => pending.includes(d.name ?? d.family)).length;
      if (done < slot.stage.data.length) record.status = done === 0 ? "pending" : `collected ${done} of ${slot.stage.data.length} benchmarks`;
      if (Object.keys(all).length) writeAtomic(join(dir, "collected", folder, `${slot.index + 1}-${slot.stage.name}`, "scores.json"), JSON.stringify(all, null, 2) + "\n");
      const known = records.get(slot.stage.cache_key);
      if (!known || (known.status === "pending" && done > 0)) records.set(slot.stage.cache_key, record);
    }
    variants.push({ id: plan.id, folder, axes: plan.axes, metrics, pending, benchmarks, plan });
  }
  const pendingOf = new Map(variants.map((v) => [v.id, v.pending]));
  const source: ReportSource = {
    dir,
    variants: () =>
      plans.map(({ plan }) => ({
        id: plan.id,
        axes: plan.axes,
        params: plan.model.params,
        stages: plan.stages.map((s) => ({ name: s.name, kind: s.kind, key: s.cache_key })),
        pending: pendingOf.get(plan.id),
      })),
    record: (key) => {
      const r = records.get(key);
      if (r) return r;
      // a training stage: it ran (or runs) on the cluster, where collect does not look
      const train = plans.some(({ plan }) => plan.stages.some((s) => s.kind === "stage" && s.cache_key === key));
      return train ? { status: "on the cluster" } : undefined;
    },
    log: (): LogLine[] => [],
  };
  return { name: experiment, dir, results, variants, source };
}

/** The shape `mmfmc collect --json` prints. */
export function collectJson(experiments: readonly CollectedExperiment[]) {
  return {
    variants: experiments.flatMap((e) => e.variants.map((v) => ({ id: v.id, axes: v.axes, metrics: v.metrics, pending: v.pending }))),
  };
}


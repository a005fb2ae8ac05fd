/**
 * Data-path throughput: samples per second through decode + preprocess + tokenize (+ template and
 * label masking) on the synthetic shapes set, for a tiny preset (32 px images, CLIP-style processor)
 * and LLaVA-1.5's real one (CLIP ViT-L/14-336, aspect `pad`, on 384 px images), each stage timed
 * alone and the whole pipeline sequentially and with several samples in flight.
 *
 * Run: npx tsc -p tsconfig.bench.json && node bench/out/bench/data/throughput.js [--samples N] [--json]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { decodeImage, type RgbImage } from "../../runtime/data/images.js";
import { type LlavaDataset, type LlavaSample, openLlavaJson } from "../../runtime/data/llava_json.js";
import { prepareSample, type SamplePipeline } from "../../runtime/data/prepare.js";
import { clipProcessor, preprocessImage } from "../../runtime/data/processor.js";
import { writeShapesDataset } from "../../runtime/data/shapes.js";
import { encodeConversation } from "../../runtime/data/template.js";
import { loadTokenizer } from "../../runtime/data/tokenizer.js";

export interface StageRates {
  readonly config: string;
  readonly samples: number;
  /** samples per second of each stage alone */
  readonly decode: number;
  readonly preprocess: number;
  readonly tokenize: number;
  /** samples per second of `prepareSample` (read json, decode, preprocess, template, masks) */
  readonly fullSequential: number;
  readonly fullConcurrent: number;
  readonly concurrency: number;
}

async function timeIt(n: number, f: (i: number) => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  return n / ((performance.now() - start) / 1000);
}

async function benchConfig(name: string, dir: string, pipeline: SamplePipeline, samples: number, concurrency: number): Promise<StageRates> {
  const ds: LlavaDataset = await openLlavaJson(join(dir, "train.json"), dir);
  const n = Math.min(samples, ds.length);
  const parsed: LlavaSample[] = [];
  for (let i = 0; i < n; i++) parsed.push(await ds.get(i));
  const withImage = parsed.filter((s) => s.image !== undefined);
  // warm-up (JIT, sharp's thread pool)
  for (const s of withImage.slice(0, 5)) preprocessImage(await decodeImage(s.image as string), pipeline.processor!, pipeline.aspect);

  const images: RgbImage[] = [];
  const decode = await timeIt(withImage.length, async (i) => images.push(await decodeImage(withImage[i].image as string)));
  const preprocess = await timeIt(images.length, (i) => preprocessImage(images[i], pipeline.processor!, pipeline.aspect));
  const tokenize = await timeIt(parsed.length, (i) =>
    encodeConversation(parsed[i].turns, parsed[i].image !== undefined, pipeline.tokenizer, { template: pipeline.template, maxLength: pipeline.maxLength, imageTokens: pipeline.imageTokens }),
  );
  const fullSequential = await timeIt(n, (i) => prepareSample(ds, i, pipeline));
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await prepareSample(ds, next++, pipeline);
    }),
  );
  const fullConcurrent = n / ((performance.now() - start) / 1000);
  return { config: name, samples: n, decode, preprocess, tokenize, fullSequential, fullConcurrent, concurrency };
}

export async function runDataBench(options: { samples?: number; concurrency?: number } = {}): Promise<StageRates[]> {
  const samples = options.samples ?? 400;
  const concurrency = options.concurrency ?? 8;
  const root = mkdtempSync(join(tmpdir(), "mmfm-bench-data-"));
  try {
    const results: StageRates[] = [];
    const tiny = join(root, "tiny");
    await writeShapesDataset(tiny, { seed: 1, train: samples, test: 0, imageSize: 32 });
    const tinyTok = await loadTokenizer(join(tiny, "tokenizer"));
    results.push(await benchConfig("tiny 32px, clip(32) crop, gemma", tiny, { tokenizer: tinyTok, template: "gemma", maxLength: 256, imageTokens: 16, processor: clipProcessor(32), aspect: "crop" }, samples, concurrency));

    const big = join(root, "clip336");
    const bigCount = Math.min(samples, 150);
    await writeShapesDataset(big, { seed: 2, train: bigCount, test: 0, imageSize: 384 });
    const bigTok = await loadTokenizer(join(big, "tokenizer"));
    results.push(await benchConfig("384px -> clip(336) pad, gemma", big, { tokenizer: bigTok, template: "gemma", maxLength: 2048, imageTokens: 576, processor: clipProcessor(336), aspect: "pad" }, bigCount, concurrency));
    return results;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function table(results: readonly StageRates[]): string {
  const f = (v: number): string => v.toFixed(0).padStart(9);
  const lines = [
    `data bench, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? "?"}); samples/s`,
    `${"config".padEnd(34)}  ${"decode".padStart(9)} ${"preproc".padStart(9)} ${"tokenize".padStart(9)} ${"full".padStart(9)} ${"full xN".padStart(9)}`,
  ];
  for (const r of results) lines.push(`${r.config.padEnd(34)}  ${f(r.decode)} ${f(r.preprocess)} ${f(r.tokenize)} ${f(r.fullSequential)} ${f(r.fullConcurrent)}   (${r.samples} samples, N=${r.concurrency})`);
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--samples");
  const samples = at >= 0 ? Number(args[at + 1]) : undefined;
  runDataBench({ samples }).then(
    (results) => process.stdout.write((args.includes("--json") ? JSON.stringify(results, null, 2) : table(results)) + "\n"),
    (error: unknown) => {
      process.stderr.write(`data bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

/**
 * `mmfmc data shapes --out DIR`: writes the synthetic shapes dataset (images, LLaVA json files, test
 * items, a tokenizer). `mmfmc data check FILE --images DIR`: reads a LLaVA json file as training
 * would and reports every invalid sample, counted by reason.
 */
import { performance } from "node:perf_hooks";
import type { ParsedArgs } from "../args.js";
import { flag, stringOption } from "../args.js";
import type { Command } from "../command.js";
import { Exit, UsageError } from "../exit.js";
import type { Output } from "../output.js";

function intOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = stringOption(args, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`option \`--${name}\` needs an integer in ${min}..${max}, got \`${raw}\``);
  }
  return Number(raw);
}

function seconds(start: number): string {
  return `${((performance.now() - start) / 1000).toFixed(1)}s`;
}

async function shapes(args: ParsedArgs, out: Output): Promise<number> {
  const dir = stringOption(args, "out");
  if (!dir) throw new UsageError("`mmfmc data shapes` needs `--out DIR`");
  if (args.positionals.length > 1) throw new UsageError(`unexpected argument \`${args.positionals[1]}\``);
  const options = {
    seed: intOption(args, "seed", 0, 0, 2 ** 32 - 1),
    train: intOption(args, "train", 2000, 0, 10_000_000),
    test: intOption(args, "test", 300, 0, 10_000_000),
    imageSize: intOption(args, "image", 32, 8, 1024),
  };
  const start = performance.now();
  const { writeShapesDataset } = await import("../../runtime/data/shapes.js");
  const summary = await writeShapesDataset(dir, options);
  if (flag(args, "json")) out.data(JSON.stringify({ ...summary, ...options }, null, 2));
  out.info(
    `${out.paint("green", "✓")} synthetic_shapes written in ${seconds(start)} (${dir}): ${options.train} train images ` +
      `(${summary.trainSamples} conversations, ${summary.textOnlySamples} text-only), ${summary.pretrainSamples} captions, ` +
      `${summary.testItems} test items on ${options.test} images of ${options.imageSize}px, tokenizer of ${summary.vocabSize} tokens`,
  );
  return Exit.Ok;
}

async function check(args: ParsedArgs, out: Output): Promise<number> {
  const file = args.positionals[1];
  if (!file) throw new UsageError("`mmfmc data check` needs a LLaVA json file");
  if (args.positionals.length > 2) throw new UsageError(`unexpected argument \`${args.positionals[2]}\``);
  const images = stringOption(args, "images") ?? ".";
  const decode = flag(args, "decode");
  const start = performance.now();
  const { openLlavaJson } = await import("../../runtime/data/llava_json.js");
  const { DataError } = await import("../../runtime/data/errors.js");
  let stats;
  try {
    const dataset = await openLlavaJson(file, images, { onInvalid: "skip", checkImages: decode ? "decode" : "exists", keepExamples: 50 });
    stats = dataset.stats;
  } catch (error) {
    if (error instanceof DataError) {
      out.info(`${out.paint("red", "error")}: ${error.message}`);
      return Exit.InputErrors;
    }
    if (error instanceof Error && (error as NodeJS.ErrnoException).code === "ENOENT") {
      out.info(`${out.paint("red", "error")}: cannot read ${file}: no such file`);
      return Exit.InputErrors;
    }
    throw error;
  }
  if (flag(args, "json")) {
    out.data(JSON.stringify(stats, null, 2));
  } else {
    for (const message of stats.examples) out.info(`${out.paint("red", "error")}: ${message}`);
    if (stats.skipped > stats.examples.length) out.info(`... and ${stats.skipped - stats.examples.length} more`);
    for (const [reason, n] of Object.entries(stats.skippedByReason)) out.data(`${reason}\t${n}`);
  }
  const added = stats.imageTokenAdded ? `, ${stats.imageTokenAdded} without \`<image>\` (added)` : "";
  const summary = `${stats.samples} samples (${stats.withImage} with an image, ${stats.textOnly} text-only${added}) checked in ${seconds(start)}`;
  if (stats.skipped === 0) {
    out.info(`${out.paint("green", "✓")} ${summary}: all valid`);
    return Exit.Ok;
  }
  out.info(`${out.paint("red", "✗")} ${summary}: ${stats.skipped} invalid`);
  return Exit.InputErrors;
}

export const command: Command = {
  name: "data",
  usage: "mmfmc data shapes --out DIR [--seed N] [--train N] [--test N] [--image SIZE] [--json]\n       mmfmc data check FILE [--images DIR] [--decode] [--json]",
  help: [
    "shapes   write the synthetic shapes dataset into DIR:",
    "           images/{train,test}/*.png, train.json (question/answer conversations, a few text-only),",
    "           pretrain.json (captions), test.json, test_items.json (for `mmfmc score`-style scoring),",
    "           tokenizer/ (a small tokenizer.json in Gemma's layout), meta.json",
    "         --seed N      generator seed (default 0); the same seed gives the same files",
    "         --train N     training images (default 2000)",
    "         --test N      test images (default 300; two questions each)",
    "         --image SIZE  image side in pixels (default 32)",
    "check    read a LLaVA conversation file as training does and report every invalid sample",
    "         --images DIR  the folder the `image` fields are relative to (default .)",
    "         --decode      also decode each image fully, as training does (slower; finds truncated",
    "                       and damaged files, and images above Pillow's pixel limit)",
    "--json   print the summary (shapes) or the statistics (check) as JSON on stdout",
  ].join("\n"),
  options: {
    out: { value: true, short: "o" },
    seed: { value: true },
    train: { value: true },
    test: { value: true },
    image: { value: true },
    images: { value: true },
    decode: { value: false },
    json: { value: false },
  },
  async run(args, out) {
    const sub = args.positionals[0];
    switch (sub) {
      case "shapes":
        return shapes(args, out);
      case "check":
        return check(args, out);
      case undefined:
        throw new UsageError("`mmfmc data` needs a subcommand: `shapes` or `check`");
      default:
        throw new UsageError(`unknown data subcommand \`${sub}\` (expected \`shapes\` or \`check\`)`);
    }
  },
};

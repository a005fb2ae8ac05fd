/**
 * Python's argparse, as far as the eval scripts of LLaVA use it (optional arguments only), over the
 * argument specs of test/fixtures/llava_eval_args.json: the parse a script does of the argv bash gave
 * it, or the error argparse would exit with.
 *
 * Followed: `--flag value` and `--flag=value`; a unique prefix of a flag stands for it (allow_abbrev);
 * a value must not look like a flag (a negative number may); `store_true`; `type` converts as Python
 * does (`int("08")` is 8, `float("1e-3")`, `bool(text)` is true for any non-empty text, `list(text)`
 * is its characters); `required`; anything left over is "unrecognized arguments".
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repo } from "../helpers.js";

export interface ArgumentSpec {
  readonly flags: readonly string[];
  readonly type?: "str" | "int" | "float" | "bool" | "list";
  readonly action?: string;
  readonly default?: unknown;
  readonly required?: boolean;
}

export interface ScriptSpec {
  readonly repository: string;
  readonly commit: string;
  readonly file: string;
  readonly arguments: readonly ArgumentSpec[];
}

const fixture = JSON.parse(readFileSync(join(repo, "test", "fixtures", "llava_eval_args.json"), "utf8"));

/** The parsers of the files LLaVA-Gemma's scripts run, by path in its checkout. */
export const parsers: Readonly<Record<string, ScriptSpec>> = fixture.scripts;

/** The parsers of the files stock LLaVA's scripts run, by path in haotian-liu/LLaVA's checkout. */
export const llavaParsers: Readonly<Record<string, ScriptSpec>> = fixture.llava_scripts;

/** The names of each code base's conversation templates (what `--conv-mode` and `--version` look up). */
export const convTemplates: Readonly<Record<"llava" | "llava-gemma", readonly string[]>> = fixture.conv_templates;

export type Parsed = { ok: true; args: Record<string, unknown> } | { ok: false; error: string };

const dest = (a: ArgumentSpec) => a.flags.find((f) => f.startsWith("--"))!.slice(2).replace(/-/g, "_");

function convert(type: ArgumentSpec["type"], text: string): { value: unknown } | { error: string } {
  switch (type) {
    case undefined:
    case "str":
      return { value: text };
    case "int":
      return /^\s*[-+]?\d+(_\d+)*\s*$/.test(text) ? { value: Number(text.replace(/_/g, "")) } : { error: `invalid int value: '${text}'` };
    case "float": {
      const t = text.trim().toLowerCase();
      if (/^[-+]?((\d+(_\d+)*)?\.?\d*(_\d+)*(e[-+]?\d+)?)$/.test(t) && /\d/.test(t)) return { value: Number(t.replace(/_/g, "")) };
      if (/^[-+]?(inf|infinity|nan)$/.test(t)) return { value: t.includes("nan") ? NaN : t.startsWith("-") ? -Infinity : Infinity };
      return { error: `invalid float value: '${text}'` };
    }
    case "bool":
      return { value: text !== "" };
    case "list":
      return { value: [...text] };
  }
}

const looksLikeFlag = (text: string) => text.startsWith("-") && !/^-\d+(\.\d*)?$/.test(text);

/** The parse of `argv` by `script` of a code base's checkout (LLaVA-Gemma's unless `codeBase` says otherwise). */
export function parse(script: string, argv: readonly string[], codeBase: "llava" | "llava-gemma" = "llava-gemma"): Parsed {
  const spec = (codeBase === "llava" ? llavaParsers : parsers)[script];
  if (!spec) return { ok: false, error: `no parser for ${script}` };
  const args: Record<string, unknown> = {};
  for (const a of spec.arguments) args[dest(a)] = a.action === "store_true" ? false : (a.default ?? null);
  const seen = new Set<ArgumentSpec>();
  const unrecognized: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!looksLikeFlag(token)) {
      unrecognized.push(token);
      continue;
    }
    const eq = token.indexOf("=");
    const name = eq >= 0 ? token.slice(0, eq) : token;
    const exact = spec.arguments.filter((a) => a.flags.includes(name));
    const matches = exact.length ? exact : spec.arguments.filter((a) => a.flags.some((f) => f.startsWith(name)));
    if (matches.length > 1) return { ok: false, error: `ambiguous option: ${name}` };
    if (matches.length === 0) {
      unrecognized.push(token);
      continue;
    }
    const a = matches[0];
    seen.add(a);
    if (a.action === "store_true") {
      if (eq >= 0) return { ok: false, error: `argument ${a.flags.join("/")}: ignored explicit argument '${token.slice(eq + 1)}'` };
      args[dest(a)] = true;
      continue;
    }
    let text: string;
    if (eq >= 0) text = token.slice(eq + 1);
    else if (i + 1 < argv.length && !looksLikeFlag(argv[i + 1])) text = argv[++i];
    else return { ok: false, error: `argument ${a.flags.join("/")}: expected one argument` };
    const converted = convert(a.type, text);
    if ("error" in converted) return { ok: false, error: `argument ${a.flags.join("/")}: ${converted.error}` };
    args[dest(a)] = converted.value;
  }
  const missing = spec.arguments.filter((a) => a.required && !seen.has(a));
  if (missing.length) return { ok: false, error: `the following arguments are required: ${missing.map((a) => a.flags.join("/")).join(", ")}` };
  if (unrecognized.length) return { ok: false, error: `unrecognized arguments: ${unrecognized.join(" ")}` };
  return { ok: true, args };
}

// ---- train.py: transformers' HfArgumentParser over its argument dataclasses ------------------------

interface TrainField {
  readonly class: string;
  /** the annotation as train.py writes it (`bool`, `Optional[int]`, ...) */
  readonly type: string;
  readonly default: unknown;
}

interface TrainArgs {
  readonly repository: string;
  readonly commit: string;
  readonly file: string;
  /** the fields train.py's ModelArguments, DataArguments and TrainingArguments declare themselves */
  readonly fields: Readonly<Record<string, TrainField>>;
  /** the flags the code base's own scripts pass to train_mem.py (inherited fields included) */
  readonly script_flags: readonly string[];
}

const trainFixture = JSON.parse(readFileSync(join(repo, "test", "fixtures", "llava_train_args.json"), "utf8"));

/** The arguments of llava/train/train.py per code base (test/fixtures/llava_train_args.json). */
export const trainArgs: Readonly<Record<"llava" | "llava-gemma", TrainArgs>> = { llava: trainFixture.llava, "llava-gemma": trainFixture["llava-gemma"] };

/**
 * Fields of transformers' TrainingArguments that the export may write and no script of either code base
 * does: listed by hand, with their types, from transformers' training_args.py (4.37.2, stock LLaVA's pin;
 * LLaVA-Gemma pins transformers at commit 49204c1d37b8, a later one: these fields are older than both).
 * The fixture cannot hold them: transformers is not in these repositories.
 */
const inheritedByHand: Readonly<Record<string, string>> = {
  "--adam_beta1": "float",
  "--adam_beta2": "float",
  "--adam_epsilon": "float",
  "--max_grad_norm": "float",
  "--max_steps": "int",
  "--seed": "int",
  "--data_seed": "Optional[int]",
  "--fp16": "bool",
};

/** HfArgumentParser's string_to_bool */
const boolWords = new Set(["yes", "true", "t", "y", "1", "no", "false", "f", "n", "0"]);

function trainValue(type: string, flag: string, value: string | null): string | undefined {
  // a field train.py inherits and only its scripts show: its type is not known here (`--use_habana` is a bare bool)
  if (type === "inherited") return undefined;
  const bare = type.replace(/^Optional\[(.*)\]$/, "$1");
  if (bare === "bool") return value === null || boolWords.has(value.toLowerCase()) ? undefined : `argument ${flag}: Truthy value expected: got ${value}`;
  if (value === null) return `argument ${flag}: expected one argument`;
  if (bare === "int") return /^[-+]?\d+$/.test(value.trim()) ? undefined : `argument ${flag}: invalid int value: '${value}'`;
  if (bare === "float") return "error" in convert("float", value) ? `argument ${flag}: invalid float value: '${value}'` : undefined;
  return undefined;
}

/**
 * The parse train.py of `codeBase` does of a training command (the words after train_mem.py): every
 * flag one of its own fields (its value converted as HfArgumentParser converts it) or one it inherits
 * (known from its scripts, or listed by hand above); the error otherwise. Returns the own fields given.
 */
export function parseTrain(codeBase: "llava" | "llava-gemma", argv: readonly string[]): Parsed {
  const spec = trainArgs[codeBase];
  const args: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (!flag.startsWith("--")) return { ok: false, error: `unrecognized arguments: ${flag}` };
    const next = argv[i + 1];
    const value = next !== undefined && !next.startsWith("--") ? next : null;
    if (value !== null) i++;
    const own = spec.fields[flag.slice(2)];
    const type = own?.type ?? inheritedByHand[flag] ?? (spec.script_flags.includes(flag) ? "inherited" : undefined);
    if (type === undefined) return { ok: false, error: `unrecognized arguments: ${flag}` };
    const error = trainValue(type, flag, value);
    if (error) return { ok: false, error };
    if (own) args[flag.slice(2)] = value;
  }
  return { ok: true, args };
}

/**
 * The `vicuna_v1` template (LLaVA-1.5's conv_vicuna_v1) and LLaVA's `preprocess_v1` label masking,
 * token by token, on Llama-layout tokenizer.json files written here: Llama's special ids (`<unk>` 0,
 * `<s>` 1, `</s>` 2), byte fallback (`\n` is `<0x0A>` = 13), and merges that give "▁USER" as
 * "▁US" + "ER" but "USER" (after `</s>`, no prefix space) as one token, as Llama's vocabulary does.
 * Two layouts: `legacy: false` (Vicuna v1.5: a Metaspace pre-tokenizer that prefixes the first text
 * only) and legacy (a normaliser that prefixes every text between special tokens).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IGNORE_INDEX } from "../../runtime/data/constants.js";
import type { LlavaTurn } from "../../runtime/data/llava_json.js";
import { encodeConversation, generationPrompt, renderConversation, stopTokenIds, VICUNA_SYSTEM } from "../../runtime/data/template.js";
import { loadTokenizer, type TextTokenizer } from "../../runtime/data/tokenizer.js";
import { buildTokenizer, saveTokenizer } from "../../runtime/data/tokenizer_build.js";

const SP = "\u2581";

/** Words as the tokenizer must produce them (BPE merges build exactly these, prefix words first). */
const PREFIXED = [
  "A", "chat", "between", "a", "curious", "user", "and", "an", "artificial", "intelligence", "assistant", "The", "gives",
  "helpful", "detailed", "polite", "answers", "to", "the", "questions", "US", "What", "color", "is", "circle", "Red", "How",
  "many", "shapes", "Two",
].map((w) => SP + w);
// no-prefix chains, in this order: "ER" before "U S" keeps "▁USER" as ▁US + ER; "USER" = US + ER
const PLAIN: [string, string][] = [["E", "R"], ["U", "S"], ["US", "ER"], ["S", "S"], ["I", "S"], ["IS", "T"], ["A", "N"], ["AN", "T"], ["W", "h"], ["Wh", "a"], ["Wha", "t"]];

/** A Llama-layout tokenizer.json (BPE with byte fallback) and its tokenizer_config.json. */
function llamaLikeTokenizer(layout: "legacy" | "first", legacyInConfig: boolean | undefined) {
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = 3 + b;
  const merges: [string, string][] = [];
  const ensure = (t: string) => {
    if (vocab[t] === undefined) vocab[t] = Object.keys(vocab).length;
  };
  const merge = (a: string, b: string) => {
    if (!merges.some(([x, y]) => x === a && y === b)) merges.push([a, b]);
    ensure(a + b);
  };
  for (const c of [SP, ..."ASTINUERWh.,'?:s"]) ensure(c);
  for (const word of PREFIXED) {
    const chars = Array.from(word);
    chars.forEach(ensure);
    let prefix = chars[0];
    for (let i = 1; i < chars.length; i++) {
      merge(prefix, chars[i]);
      prefix += chars[i];
    }
  }
  for (const [a, b] of PLAIN) merge(a, b);
  const added = ["<unk>", "<s>", "</s>"].map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    // legacy: every text between special tokens gets "▁" in front; `first`: only the first text does
    normalizer: layout === "legacy" ? { type: "Sequence", normalizers: [{ type: "Prepend", prepend: SP }, { type: "Replace", pattern: { String: " " }, content: SP }] } : null,
    pre_tokenizer: layout === "first" ? { type: "Metaspace", replacement: SP, prepend_scheme: "first", split: false } : null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "<s>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: SP }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
  const config: Record<string, unknown> = { add_bos_token: true, add_eos_token: false, bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", pad_token: null };
  if (legacyInConfig !== undefined) config.legacy = legacyInConfig;
  return { json, config, vocab };
}

let root: string;
let vicuna: TextTokenizer; // Vicuna v1.5: legacy false, Metaspace `first`
let legacy: TextTokenizer; // legacy layout, no `legacy` in the config (transformers: true)
let confused: TextTokenizer; // legacy layout but a config saying legacy false
let V: Record<string, number>;

/** Ids of space-separated tokens (`▁` written as `_`; `IMG` is LLaVA's placeholder -200). */
function ids(tokens: string): number[] {
  return tokens
    .trim()
    .split(/\s+/)
    .map((t) => {
      if (t === "IMG") return -200;
      const id = V[t.replaceAll("_", SP)];
      if (id === undefined) throw new Error(`test vocabulary has no ${t}`);
      return id;
    });
}

const SYSTEM = "_A _chat _between _a _curious _user _and _an _artificial _intelligence _assistant . _The _assistant _gives _helpful , _detailed , _and _polite _answers _to _the _user ' s _questions .";

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "mmfm-vicuna-"));
  const made: TextTokenizer[] = [];
  for (const [name, layout, flag] of [["vicuna", "first", false], ["legacy", "legacy", undefined], ["confused", "legacy", false]] as const) {
    const { json, config, vocab } = llamaLikeTokenizer(layout, flag);
    V = vocab;
    await saveTokenizer(join(root, name), { tokenizerJson: json, tokenizerConfig: config });
    made.push(await loadTokenizer(join(root, name)));
  }
  [vicuna, legacy, confused] = made;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WITH_IMAGE: LlavaTurn[] = [
  { role: "user", text: "<image>\nWhat color is the circle?" },
  { role: "assistant", text: "Red." },
  { role: "user", text: "How many shapes?" },
  { role: "assistant", text: "Two." },
];
const TEXT_ONLY: LlavaTurn[] = [
  { role: "user", text: "How many shapes?" },
  { role: "assistant", text: "Two." },
  { role: "user", text: "What color is the circle?" },
  { role: "assistant", text: "Red." },
  { role: "user", text: "How many shapes?" },
  { role: "assistant", text: "Two." },
];

/** Labels: `-` for -100, `+` for the input id, per token. */
function labelsOf(input: readonly number[], marks: string): number[] {
  const m = marks.replace(/\s+/g, "");
  expect(m.length, "one mark per token").toBe(input.length);
  return input.map((id, i) => (m[i] === "+" ? id : IGNORE_INDEX));
}

describe("the tokenizer files", () => {
  it("read `legacy` from tokenizer_config.json (absent: true, as transformers' Llama tokenizers)", () => {
    expect([vicuna.legacy, legacy.legacy, confused.legacy]).toEqual([false, true, false]);
    expect([vicuna.bosId, vicuna.eosId, vicuna.unkId, vicuna.padId]).toEqual([1, 2, 0, undefined]);
  });

  it("tokenize as Llama's: USER after </s> has no prefix space unless legacy; \\n is <0x0A> = 13", () => {
    expect(vicuna.encode("USER: ")).toEqual(ids("<s> _US ER : _")); // the text's own prefix space
    expect(legacy.encode("USER: ")).toEqual(ids("<s> _US ER : _"));
    expect(vicuna.encodeText("Red.</s>USER:")).toEqual(ids("_Red . </s> USER :"));
    expect(legacy.encodeText("Red.</s>USER:")).toEqual(ids("_Red . </s> _US ER :"));
    expect(vicuna.encode("<image>\nWhat")).toEqual([1, -200, ...ids("_ <0x0A> What")]);
    expect(V["<0x0A>"]).toBe(13);
  });
});

describe("the vicuna_v1 template", () => {
  it("renders conv_vicuna_v1's prompt (SeparatorStyle.TWO: \" \" after the user, \"</s>\" after the assistant)", () => {
    expect(renderConversation(WITH_IMAGE, "vicuna_v1")).toBe(
      `${VICUNA_SYSTEM} USER: <image>\nWhat color is the circle? ASSISTANT: Red.</s>USER: How many shapes? ASSISTANT: Two.</s>`,
    );
    expect(() => renderConversation([{ role: "assistant", text: "Hi." }], "vicuna_v1")).toThrow(/alternating from the user; turn 1 is the assistant's/);
  });

  it("masks a multi-turn conversation with an image as preprocess_v1 does (legacy false: the -1 from round 2 on)", () => {
    const enc = encodeConversation(WITH_IMAGE, true, vicuna, { template: "vicuna_v1", maxLength: 200, imageTokens: 3 });
    const expected = ids(
      `<s> ${SYSTEM} _US ER : _ IMG IMG IMG _ <0x0A> What _color _is _the _circle ? _A SS IST ANT : _Red . </s>` +
        ` USER : _How _many _shapes ? _A SS IST ANT : _Two . </s>`,
    );
    expect(Array.from(enc.inputIds)).toEqual(expected);
    const system = "-".repeat(29);
    expect(Array.from(enc.labels)).toEqual(labelsOf(expected, `- ${system} ---- --- ------------- +++ ----------- +++`));
    expect(enc.imageStart).toBe(34);
    expect(enc.mismatch).toBe(false);
  });

  it("masks a three-round text-only conversation (the rounds' tokens add up to the whole)", () => {
    const enc = encodeConversation(TEXT_ONLY, false, vicuna, { template: "vicuna_v1", maxLength: 200, imageTokens: 3 });
    const round = (q: string, a: string) => ` : ${q} _A SS IST ANT : ${a} . </s>`;
    const expected = ids(
      `<s> ${SYSTEM} _US ER` + round("_How _many _shapes ?", "_Two") + " USER" + round("_What _color _is _the _circle ?", "_Red") + " USER" + round("_How _many _shapes ?", "_Two"),
    );
    expect(Array.from(enc.inputIds)).toEqual(expected);
    const system = "-".repeat(29);
    // round 1: BOS, system, ▁US ER : ▁How ▁many ▁shapes ? ▁A SS IST ANT : ; then ▁Two . </s>
    expect(Array.from(enc.labels)).toEqual(labelsOf(expected, `- ${system} ------------ +++ ------------- +++ ----------- +++`));
    expect(enc.mismatch).toBe(false);
  });

  it("a legacy tokenizer needs no offset, and gets none", () => {
    const enc = encodeConversation(WITH_IMAGE, true, legacy, { template: "vicuna_v1", maxLength: 200, imageTokens: 2 });
    const expected = ids(
      `<s> ${SYSTEM} _US ER : _ IMG IMG _ <0x0A> What _color _is _the _circle ? _A SS IST ANT : _Red . </s>` +
        ` _US ER : _How _many _shapes ? _A SS IST ANT : _Two . </s>`,
    );
    expect(Array.from(enc.inputIds)).toEqual(expected);
    expect(Array.from(enc.labels)).toEqual(labelsOf(expected, `- ${"-".repeat(29)} ---- -- ------------- +++ ------------ +++`));
    expect(enc.mismatch).toBe(false);
  });

  it("LLaVA's arithmetic, not a guess: a legacy tokenization under a `legacy: false` config does not add up, so all is -100", () => {
    const enc = encodeConversation(WITH_IMAGE, true, confused, { template: "vicuna_v1", maxLength: 200, imageTokens: 2 });
    expect(enc.mismatch).toBe(true);
    expect(Array.from(enc.labels).every((l) => l === IGNORE_INDEX)).toBe(true);
    // the check is skipped when the rounds reach model_max_length (LLaVA's `cur_len < model_max_length`)
    const long = encodeConversation(TEXT_ONLY, false, confused, { template: "vicuna_v1", maxLength: 50, imageTokens: 2 });
    expect(long.mismatch).toBe(false);
    expect(long.inputIds.length).toBe(50);
    expect(Array.from(long.labels).some((l) => l !== IGNORE_INDEX)).toBe(true);
  });

  it("the generation prompt ends with `ASSISTANT:` (the assistant's message None), and stops at </s>", () => {
    const p = generationPrompt(WITH_IMAGE.slice(0, 3), true, vicuna, { template: "vicuna_v1", imageTokens: 2 });
    expect(Array.from(p.inputIds)).toEqual(
      ids(`<s> ${SYSTEM} _US ER : _ IMG IMG _ <0x0A> What _color _is _the _circle ? _A SS IST ANT : _Red . </s> USER : _How _many _shapes ? _A SS IST ANT :`),
    );
    expect(stopTokenIds("vicuna_v1", vicuna)).toEqual([2]);
  });
});

describe("a Llama-layout tokenizer built from a corpus", () => {
  it("has Llama's special ids, the legacy layout, and runs the vicuna_v1 template without mismatch", async () => {
    const corpus = [VICUNA_SYSTEM, " USER: ", " ASSISTANT: ", "</s>USER: ", "What color is the circle?", "Red.", "How many shapes?", "Two."].flatMap((t) => [t, t, t]);
    const dir = join(root, "tiny-llama");
    await saveTokenizer(dir, buildTokenizer(corpus, { vocabSize: 300, layout: "llama" }));
    const tok = await loadTokenizer(dir);
    expect([tok.unkId, tok.bosId, tok.eosId, tok.imageTokenId, tok.padId]).toEqual([0, 1, 2, 3, undefined]);
    expect(tok.legacy).toBe(true);
    expect(tok.encodeText("Red.</s>USER:")).toEqual(tok.encodeText("Red.").concat([2], tok.encodeText("USER:")));
    expect(tok.decode(tok.encode("What color is the circle?"), { skipSpecial: true })).toBe("What color is the circle?");
    for (const turns of [WITH_IMAGE, TEXT_ONLY]) {
      const enc = encodeConversation(turns, turns === WITH_IMAGE, tok, { template: "vicuna_v1", maxLength: 400, imageTokens: 4 });
      expect(enc.mismatch).toBe(false);
      const trained = Array.from(enc.inputIds).filter((_, i) => enc.labels[i] !== IGNORE_INDEX);
      // the answers with their "</s>" (a text after a special token starts with "▁": the legacy layout)
      expect(tok.decode(trained)).toBe(turns === WITH_IMAGE ? "Red.</s> Two.</s>" : "Two.</s> Red.</s> Two.</s>");
    }
  });
});

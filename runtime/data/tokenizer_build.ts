/**
 * A small BPE tokenizer built from a corpus and written as a Hugging Face `tokenizer.json` in Gemma's
 * or Llama's layout (same normaliser or pre-tokenizer, decoder and BOS post-processor; the special
 * tokens at the real ids where a tiny vocabulary can have them), so that tiny models run the real
 * `gemma` and `vicuna_v1` chat templates with a vocabulary of a few hundred tokens.
 *
 * Gemma ids: `<pad>` 0, `<eos>` 1, `<bos>` 2, `<unk>` 3 (Gemma's), then `<start_of_turn>` 4,
 * `<end_of_turn>` 5, `<image>` 6 (Gemma has them at 106, 107 and, after LLaVA's conversion, 256000;
 * a tiny vocabulary cannot). Like Gemma's file it has no pre-tokenizer: spaces become `▁` and BPE runs
 * over each text between special tokens.
 *
 * Llama ids: `<unk>` 0, `<s>` 1, `</s>` 2 (Llama's), `<image>` 3 (32000 after LLaVA's conversion).
 * The legacy Llama layout (Llama-2's tokenizer.json, `legacy: true`): a normaliser that puts `▁`
 * before every text between special tokens, a decoder that strips it again. Not Vicuna v1.5's
 * `legacy: false`: LLaVA's `preprocess_v1` offsets for that case hold only for vocabularies where
 * "▁USER" takes one token more than "USER" (Llama's: ▁US ER and USER), which a vocabulary learned
 * from a small corpus need not be; with `legacy: true` no offset is applied and the rounds add up.
 *
 * Then every printable ASCII character, `▁` (the space) and `\n`, then the merged tokens in the order
 * they were learned. Merges are learned inside "words" (a `▁` followed by letters and digits, or one
 * other character), so no merge crosses a word boundary and whole-text BPE equals per-word BPE.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TokenizerFiles } from "./tokenizer.js";

export const TINY_SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "<image>"] as const;
export const TINY_LLAMA_SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<image>"] as const;
const SPACE = "\u2581"; // ▁

export interface BuildTokenizerOptions {
  /** total vocabulary including special tokens and characters (default 320) */
  readonly vocabSize?: number;
  /** a merge needs at least this many occurrences (default 2) */
  readonly minFrequency?: number;
  /** the special tokens, normaliser and decoder of `gemma` (default) or `llama` */
  readonly layout?: "gemma" | "llama";
}

/** Splits a normalised text into the units merges may not cross. */
function words(text: string): string[] {
  return text.match(new RegExp(`${SPACE}?[\\p{L}\\p{N}]+|[^\\p{L}\\p{N}]`, "gu")) ?? [];
}

/** Learns BPE merges from `corpus` and returns the files of a Gemma-layout (or Llama-layout) tokenizer. */
export function buildTokenizer(corpus: Iterable<string>, options: BuildTokenizerOptions = {}): TokenizerFiles {
  const vocabSize = options.vocabSize ?? 320;
  const minFrequency = options.minFrequency ?? 2;
  const llama = options.layout === "llama";
  const specialTokens: readonly string[] = llama ? TINY_LLAMA_SPECIAL_TOKENS : TINY_SPECIAL_TOKENS;

  const vocab = new Map<string, number>();
  const add = (t: string): void => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  };
  specialTokens.forEach(add);
  const alphabet = new Set<string>([SPACE, "\n"]);
  for (let c = 0x21; c < 0x7f; c++) alphabet.add(String.fromCharCode(c));

  // word frequencies (special tokens removed: they are never merged)
  const freq = new Map<string, number>();
  const specials = new RegExp(specialTokens.map((t) => t.replace(/[<>/]/g, (m) => `\\${m}`)).join("|"), "g");
  for (const text of corpus) {
    // Llama's legacy normaliser puts a space before every text between special tokens
    const sections = llama ? text.split(specials).map((t) => ` ${t}`) : [text.replace(specials, "\n")];
    for (const piece of sections.flatMap((t) => t.split("\n"))) {
      for (const w of words(piece.replaceAll(" ", SPACE))) {
        freq.set(w, (freq.get(w) ?? 0) + 1);
        for (const ch of w) alphabet.add(ch);
      }
    }
  }
  [...alphabet].sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number)).forEach(add);
  if (vocab.size > vocabSize) throw new Error(`vocabSize ${vocabSize} is too small: the special tokens and characters alone take ${vocab.size}`);

  // words as symbol lists, sorted for determinism
  const entries = [...freq.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const symbols = entries.map(([w]) => Array.from(w));
  const counts = entries.map(([, c]) => c);
  const merges: [string, string][] = [];

  while (vocab.size < vocabSize) {
    const pairs = new Map<string, number>();
    symbols.forEach((s, k) => {
      for (let i = 0; i + 1 < s.length; i++) {
        const key = `${s[i]}\u0000${s[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + counts[k]);
      }
    });
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, c] of pairs) {
      if (c > bestCount || (c === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best === undefined || bestCount < minFrequency) break;
    const [a, b] = best.split("\u0000");
    merges.push([a, b]);
    add(a + b);
    for (const s of symbols) {
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) s.splice(i, 2, a + b);
      }
    }
  }

  const added = specialTokens.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const bos = llama ? "<s>" : "<bos>";
  const decoders: unknown[] = [{ type: "Replace", pattern: { String: SPACE }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }];
  if (llama) decoders.push({ type: "Strip", content: " ", start: 1, stop: 0 });
  const tokenizerJson: Record<string, unknown> = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: llama
      ? { type: "Sequence", normalizers: [{ type: "Prepend", prepend: SPACE }, { type: "Replace", pattern: { String: " " }, content: SPACE }] }
      : { type: "Replace", pattern: { String: " " }, content: SPACE },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: bos, type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [vocab.get(bos)], tokens: [bos] } },
    },
    decoder: { type: "Sequence", decoders },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      // "a b" strings (the format every tokenizers version reads; tokens never contain a space here)
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const decoderMap = Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest]));
  const tokenizerConfig: Record<string, unknown> = llama
    ? {
        add_bos_token: true,
        add_eos_token: false,
        bos_token: "<s>",
        eos_token: "</s>",
        pad_token: null,
        unk_token: "<unk>",
        additional_special_tokens: ["<image>"],
        clean_up_tokenization_spaces: false,
        legacy: true,
        model_max_length: 2048,
        padding_side: "right",
        tokenizer_class: "LlamaTokenizer",
        added_tokens_decoder: decoderMap,
      }
    : {
        add_bos_token: true,
        add_eos_token: false,
        bos_token: "<bos>",
        eos_token: "<eos>",
        pad_token: "<pad>",
        unk_token: "<unk>",
        additional_special_tokens: ["<start_of_turn>", "<end_of_turn>", "<image>"],
        clean_up_tokenization_spaces: false,
        model_max_length: 2048,
        padding_side: "right",
        tokenizer_class: "GemmaTokenizer",
        added_tokens_decoder: decoderMap,
      };
  const specialTokensMap: Record<string, unknown> = llama
    ? { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", additional_special_tokens: ["<image>"] }
    : {
        bos_token: "<bos>",
        eos_token: "<eos>",
        pad_token: "<pad>",
        unk_token: "<unk>",
        additional_special_tokens: ["<start_of_turn>", "<end_of_turn>", "<image>"],
      };
  return { tokenizerJson, tokenizerConfig, specialTokensMap };
}

/** Writes `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json` into `dir`. */
export async function saveTokenizer(dir: string, files: TokenizerFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(files.tokenizerJson, null, 2) + "\n");
  if (files.tokenizerConfig) await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify(files.tokenizerConfig, null, 2) + "\n");
  if (files.specialTokensMap) await writeFile(join(dir, "special_tokens_map.json"), JSON.stringify(files.specialTokensMap, null, 2) + "\n");
}

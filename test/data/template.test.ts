/**
 * Tokenizer loading, the gemma and plain templates and LLaVA-Gemma's label masking, on tokenizer.json
 * files written in the test: one hand-made in Gemma's layout (Gemma's ids for the special tokens,
 * `user`, `model` and `\n`), one built by `buildTokenizer`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IGNORE_INDEX, IMAGE_TOKEN_INDEX } from "../../runtime/data/constants.js";
import type { LlavaTurn } from "../../runtime/data/llava_json.js";
import { encodeConversation, generationPrompt, renderConversation } from "../../runtime/data/template.js";
import { loadTokenizer, type TextTokenizer } from "../../runtime/data/tokenizer.js";
import { buildTokenizer, saveTokenizer } from "../../runtime/data/tokenizer_build.js";

const SP = "\u2581";
// whole-word tokens at fixed ids (Gemma's own ids for `user`, `model` and `\n`)
const WORDS: Record<string, number> = {
  a: 235250, // before the words that contain the character
  user: 1645,
  model: 2516,
  What: 1841,
  [`${SP}color`]: 2881,
  [`${SP}is`]: 603,
  [`${SP}the`]: 573,
  [`${SP}circle`]: 11698,
  How: 2299,
  [`${SP}many`]: 1767,
  [`${SP}shapes`]: 21085,
  Red: 5200,
  Two: 9069,
  [`${SP}red`]: 3118,
  [`${SP}square`]: 7800,
};
const PUNCT: Record<string, number> = { "\n": 108, "?": 235336, ".": 235265 };

/** A BPE tokenizer.json in Gemma's layout whose merges build exactly the words above. */
function gemmaLikeTokenizer(withImageToken: boolean): { json: Record<string, unknown>; config: Record<string, unknown> } {
  const vocab: Record<string, number> = { "<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<start_of_turn>": 106, "<end_of_turn>": 107, ...PUNCT };
  let next = 300000;
  const merges: [string, string][] = [];
  const ensure = (t: string, id?: number): void => {
    if (vocab[t] === undefined) vocab[t] = id ?? next++;
  };
  for (const [word, id] of Object.entries(WORDS)) {
    const chars = Array.from(word);
    if (chars.length === 1) ensure(word, id);
    chars.forEach((c) => ensure(c));
    let prefix = chars[0];
    for (let i = 1; i < chars.length; i++) {
      const merged = prefix + chars[i];
      if (!merges.some(([a, b]) => a === prefix && b === chars[i])) merges.push([prefix, chars[i]]);
      ensure(merged, i === chars.length - 1 ? id : undefined);
      prefix = merged;
    }
  }
  const specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"];
  const added = specials.map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  if (withImageToken) added.push({ id: 256000, content: "<image>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: "Replace", pattern: { String: " " }, content: SP },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<bos>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<bos>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "<bos>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<bos>": { id: "<bos>", ids: [2], tokens: ["<bos>"] } },
    },
    decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: SP }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }] },
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: false, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
  const config = { add_bos_token: true, add_eos_token: false, bos_token: "<bos>", eos_token: "<eos>", pad_token: "<pad>", unk_token: "<unk>" };
  return { json, config };
}

let root: string;
let gemma: TextTokenizer; // with `<image>` = 256000 (as HF's LLaVA conversion)
let gemmaNoImage: TextTokenizer; // without: LLaVA's placeholder -200

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "mmfm-template-"));
  for (const [name, withImage] of [
    ["with-image", true],
    ["no-image", false],
  ] as const) {
    const { json, config } = gemmaLikeTokenizer(withImage);
    const dir = join(root, name);
    await saveTokenizer(dir, { tokenizerJson: json, tokenizerConfig: config });
  }
  gemma = await loadTokenizer(join(root, "with-image"));
  gemmaNoImage = await loadTokenizer(join(root, "no-image"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TWO_TURNS: LlavaTurn[] = [
  { role: "user", text: "<image>\nWhat color is the circle?" },
  { role: "assistant", text: "Red." },
  { role: "user", text: "How many shapes?" },
  { role: "assistant", text: "Two." },
];

describe("loading a tokenizer.json folder", () => {
  it("reads the special tokens and add_bos from the config, and finds `<image>` when present", () => {
    expect([gemma.bosId, gemma.eosId, gemma.padId, gemma.unkId]).toEqual([2, 1, 0, 3]);
    expect(gemma.addBos).toBe(true);
    expect(gemma.addEos).toBe(false);
    expect(gemma.imageTokenId).toBe(256000);
    expect(gemma.imageTokenInVocab).toBe(true);
    expect(gemmaNoImage.imageTokenId).toBe(IMAGE_TOKEN_INDEX);
    expect(gemmaNoImage.imageTokenInVocab).toBe(false);
    expect(gemma.encode("What color is the circle?")).toEqual([2, 1841, 2881, 603, 573, 11698, 235336]);
    expect(gemma.decode([2, 1841, 2881, 603, 573, 11698, 235336], { skipSpecial: true })).toBe("What color is the circle?");
  });

  it("encode splits on `<image>` and inserts the image id, with one BOS (tokenizer_image_token)", () => {
    expect(gemma.encode("<image>\nWhat")).toEqual([2, 256000, 108, 1841]);
    expect(gemmaNoImage.encode("<image>\nWhat")).toEqual([2, -200, 108, 1841]);
    expect(gemmaNoImage.encode("What<image>")).toEqual([2, 1841, -200]);
  });

  it("fails with the folder's name when there is no tokenizer.json", async () => {
    await expect(loadTokenizer(join(root, "nothing-here"))).rejects.toThrow(/no tokenizer\.json in .*nothing-here/);
  });
});

describe("the gemma template", () => {
  it("renders LLaVA-Gemma's training string", () => {
    expect(renderConversation(TWO_TURNS.slice(0, 2), "gemma")).toBe(
      "<start_of_turn>user\n<image>\nWhat color is the circle?<end_of_turn>\n<start_of_turn>model\nRed.<end_of_turn>\n",
    );
  });

  for (const [name, imageId] of [
    ["`<image>` in the vocabulary", 256000],
    ["LLaVA's placeholder -200", -200],
  ] as const) {
    it(`gives the ids and labels of a two-turn conversation (${name})`, () => {
      const tok = imageId === 256000 ? gemma : gemmaNoImage;
      const img = [imageId, imageId, imageId]; // 3 image positions
      const m = IGNORE_INDEX;
      // <bos> <start_of_turn> user \n [image x3] \n What ▁color ▁is ▁the ▁circle ? <end_of_turn> \n
      const user1 = [2, 106, 1645, 108, ...img, 108, 1841, 2881, 603, 573, 11698, 235336, 107, 108];
      const model1 = [106, 2516, 108]; // <start_of_turn> model \n
      const answer1 = [5200, 235265, 107, 108]; // Red . <end_of_turn> \n
      const user2 = [106, 1645, 108, 2299, 1767, 21085, 235336, 107, 108];
      const model2 = [106, 2516, 108];
      const answer2 = [9069, 235265, 107, 108]; // Two . <end_of_turn> \n
      const ids = [...user1, ...model1, ...answer1, ...user2, ...model2, ...answer2];
      const labels = [
        ...user1.map(() => m),
        ...model1.map(() => m),
        ...answer1,
        ...user2.map(() => m),
        ...model2.map(() => m),
        ...answer2,
      ];
      const enc = encodeConversation(TWO_TURNS, true, tok, { template: "gemma", maxLength: 100, imageTokens: 3 });
      expect(Array.from(enc.inputIds)).toEqual(ids);
      expect(Array.from(enc.labels)).toEqual(labels);
      expect(enc.imageStart).toBe(4);
      expect(enc.imagePositions).toBe(3);
      expect(enc.mismatch).toBe(false);
      expect(enc.truncated).toBe(false);
    });
  }

  it("text-only conversations have no image positions; `<image>` without an image is an error", () => {
    const turns: LlavaTurn[] = [
      { role: "user", text: "How many shapes?" },
      { role: "assistant", text: "Two." },
    ];
    const enc = encodeConversation(turns, false, gemma, { template: "gemma", maxLength: 64, imageTokens: 3 });
    expect(Array.from(enc.inputIds)).toEqual([2, 106, 1645, 108, 2299, 1767, 21085, 235336, 107, 108, 106, 2516, 108, 9069, 235265, 107, 108]);
    expect(enc.imageStart).toBe(-1);
    expect(Array.from(enc.labels).filter((l) => l !== IGNORE_INDEX)).toEqual([9069, 235265, 107, 108]);
    expect(() => encodeConversation(TWO_TURNS, false, gemma, { template: "gemma", maxLength: 64, imageTokens: 3 })).toThrow(/has `<image>` but the sample has no image/);
  });

  it("masks the whole sample on LLaVA's tokenization mismatch", () => {
    const turns: LlavaTurn[] = [
      { role: "user", text: "How many shapes?" },
      { role: "assistant", text: "Two.<end_of_turn>\n<start_of_turn>model\nRed." },
    ];
    const enc = encodeConversation(turns, false, gemma, { template: "gemma", maxLength: 64, imageTokens: 0 });
    expect(enc.mismatch).toBe(true);
    expect(Array.from(enc.labels).every((l) => l === IGNORE_INDEX)).toBe(true);
  });

  it("truncates after counting the image tokens, and rejects an image that does not fit", () => {
    const full = encodeConversation(TWO_TURNS, true, gemma, { template: "gemma", maxLength: 1000, imageTokens: 10 });
    expect(full.fullLength).toBe(37 - 1 + 10);
    const cut = encodeConversation(TWO_TURNS, true, gemma, { template: "gemma", maxLength: 30, imageTokens: 10 });
    expect(cut.inputIds.length).toBe(30);
    expect(cut.truncated).toBe(true);
    expect(Array.from(cut.inputIds)).toEqual(Array.from(full.inputIds.subarray(0, 30)));
    expect(Array.from(cut.labels)).toEqual(Array.from(full.labels.subarray(0, 30)));
    // BOS, <start_of_turn>, user, \n, then 20 image positions: 24 > 20
    expect(() => encodeConversation(TWO_TURNS, true, gemma, { template: "gemma", maxLength: 20, imageTokens: 20 })).toThrow(
      /image does not fit in max_length 20: it starts at position 4 and takes 20 tokens \(24 > 20\)/,
    );
  });

  it("the generation prompt ends with `<start_of_turn>model\\n`", () => {
    const p = generationPrompt(TWO_TURNS.slice(0, 3), true, gemma, { template: "gemma", imageTokens: 2 });
    const ids = Array.from(p.inputIds);
    expect(ids.slice(0, 6)).toEqual([2, 106, 1645, 108, 256000, 256000]);
    expect(ids.slice(-3)).toEqual([106, 2516, 108]);
    expect(ids.slice(-12, -3)).toEqual([106, 1645, 108, 2299, 1767, 21085, 235336, 107, 108]);
    expect(p.imageStart).toBe(4);
  });
});

describe("the plain template (LLaVA-1.5 stage 1)", () => {
  it("is `<bos><image>caption\\n` with only the caption and `\\n` trained", () => {
    const turns: LlavaTurn[] = [
      { role: "user", text: "<image>\nWhat is this?" },
      { role: "assistant", text: "a red square." },
    ];
    const enc = encodeConversation(turns, true, gemma, { template: "plain", maxLength: 64, imageTokens: 2 });
    const m = IGNORE_INDEX;
    expect(Array.from(enc.inputIds)).toEqual([2, 256000, 256000, 235250, 3118, 7800, 235265, 108]);
    expect(Array.from(enc.labels)).toEqual([m, m, m, 235250, 3118, 7800, 235265, 108]);
    expect(() => encodeConversation(TWO_TURNS, true, gemma, { template: "plain", maxLength: 64, imageTokens: 2 })).toThrow(/one human and one gpt turn, found 4/);
    expect(Array.from(generationPrompt(turns.slice(0, 1), true, gemma, { template: "plain", imageTokens: 2 }).inputIds)).toEqual([2, 256000, 256000]);
  });
});

describe("a tokenizer built from a corpus", () => {
  it("has Gemma's special ids, loads with @huggingface/tokenizers, and runs the gemma template without mismatch", async () => {
    const corpus = ["What color is the circle?", "The circle is red.", "How many shapes are there?", "There are two shapes."].flatMap((t) => [t, t, t]);
    const dir = join(root, "tiny");
    await saveTokenizer(dir, buildTokenizer(corpus, { vocabSize: 200 }));
    const tok = await loadTokenizer(dir);
    expect([tok.padId, tok.eosId, tok.bosId, tok.unkId]).toEqual([0, 1, 2, 3]);
    expect([tok.tokenId("<start_of_turn>"), tok.tokenId("<end_of_turn>"), tok.imageTokenId]).toEqual([4, 5, 6]);
    expect(tok.addBos).toBe(true);
    expect(tok.vocabSize).toBeLessThanOrEqual(200);
    // frequent words became single tokens
    expect(tok.encodeText("What")).toHaveLength(1);
    expect(tok.encodeText(" circle")).toHaveLength(1);
    expect(tok.encodeText("What color is the circle?")).toHaveLength(6);
    for (const text of ["What color is the circle?", "Zebra #42 {x}\n\tok"]) {
      expect(tok.decode(tok.encodeText(text))).toBe(text.replace("\t", "<unk>"));
    }
    const enc = encodeConversation(TWO_TURNS, true, tok, { template: "gemma", maxLength: 200, imageTokens: 4 });
    expect(enc.mismatch).toBe(false);
    const trained = Array.from(enc.inputIds).filter((_, i) => enc.labels[i] !== IGNORE_INDEX);
    expect(tok.decode(trained)).toBe("Red.<end_of_turn>\nTwo.<end_of_turn>\n");
  });

  it("is deterministic", () => {
    const corpus = ["a b c a b", "abc abd"];
    expect(JSON.stringify(buildTokenizer(corpus))).toBe(JSON.stringify(buildTokenizer(corpus)));
  });
});

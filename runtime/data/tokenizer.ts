/**
 * Tokenizers: a Hugging Face `tokenizer.json` (with `tokenizer_config.json` and
 * `special_tokens_map.json` when present) loaded from a local folder with `@huggingface/tokenizers`
 * (pure JS, no network), wrapped with what LLaVA needs:
 *
 * - `add_bos_token` / `add_eos_token` as the config says (Gemma: BOS yes, EOS no); when the config is
 *   silent, whatever the file's post-processor adds;
 * - the image token: if the vocabulary has `<image>` (the HF LLaVA conversion adds it: Gemma's is
 *   256000) its id is used; otherwise LLaVA's convention, the placeholder `IMAGE_TOKEN_INDEX = -200`,
 *   which is not a vocabulary id: a model must not embed it (it marks where the image features go);
 * - `encode` is LLaVA's `tokenizer_image_token`: split the text on `<image>`, tokenize each chunk
 *   without special tokens, join with the image id, and put one BOS in front;
 * - `legacy`, as transformers' Llama tokenizers read it from the config (absent: true), for LLaVA's
 *   `preprocess_v1` offsets. The ids themselves are what tokenizer.json says: a Llama tokenizer.json
 *   converted with `legacy: false` (transformers writes a Metaspace pre-tokenizer with
 *   `prepend_scheme: "first"`) gives the slow tokenizer's non-legacy ids, which LLaVA trains with.
 *
 * The prompts never get an EOS appended: the chat templates end turns with their own separators.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { IMAGE_TOKEN, IMAGE_TOKEN_INDEX } from "./constants.js";

export interface TokenizerFiles {
  /** the parsed `tokenizer.json` */
  readonly tokenizerJson: Record<string, unknown>;
  readonly tokenizerConfig?: Record<string, unknown>;
  readonly specialTokensMap?: Record<string, unknown>;
}

export interface TextTokenizer {
  /** one more than the largest id (model vocabulary and added tokens) */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** the tokenizer's own pad token (Gemma: `<pad>` = 0); LLaVA-Gemma pads with `unkId` instead */
  readonly padId: number | undefined;
  readonly unkId: number | undefined;
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** `tokenizer_config.json`'s `legacy` (transformers' Llama tokenizers: true when absent) */
  readonly legacy: boolean;
  /** `<image>`'s id when the vocabulary has it, else `IMAGE_TOKEN_INDEX` (-200) */
  readonly imageTokenId: number;
  readonly imageTokenInVocab: boolean;
  /** ids of the special (added) tokens */
  readonly specialIds: ReadonlySet<number>;
  tokenId(token: string): number | undefined;
  token(id: number): string | undefined;
  /** plain text to ids: no special tokens added, `<image>` not treated specially */
  encodeText(text: string): number[];
  /** LLaVA's `tokenizer_image_token`: [BOS] + chunks joined by `imageTokenId` */
  encode(text: string): number[];
  decode(ids: readonly number[], options?: { readonly skipSpecial?: boolean }): string;
}

/** A tokenizer folder that cannot be read or makes no tokenizer: the message names the file. */
export class TokenizerError extends Error {}

/** `"<bos>"` or `{ "content": "<bos>" }` (both appear in HF configs). */
function tokenString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object" && typeof (v as { content?: unknown }).content === "string") return (v as { content: string }).content;
  return undefined;
}

async function readJsonIfPresent(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TokenizerError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new TokenizerError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Loads `tokenizer.json` (+ `tokenizer_config.json`, `special_tokens_map.json`) from a folder. */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const tokenizerJson = await readJsonIfPresent(join(dir, "tokenizer.json"));
  if (!tokenizerJson) {
    throw new TokenizerError(`no tokenizer.json in ${dir} (only Hugging Face "fast" tokenizer files are supported; a SentencePiece tokenizer.model must be converted first)`);
  }
  const tokenizerConfig = await readJsonIfPresent(join(dir, "tokenizer_config.json"));
  const specialTokensMap = await readJsonIfPresent(join(dir, "special_tokens_map.json"));
  return tokenizerFromFiles({ tokenizerJson, tokenizerConfig, specialTokensMap }, dir);
}

/** Builds the tokenizer from already parsed files; `where` names them in errors. */
export function tokenizerFromFiles(files: TokenizerFiles, where = "tokenizer.json"): TextTokenizer {
  const config: Record<string, unknown> = { ...(files.specialTokensMap ?? {}), ...(files.tokenizerConfig ?? {}) };
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(files.tokenizerJson, config);
  } catch (error) {
    throw new TokenizerError(`cannot load the tokenizer in ${where}: ${(error as Error).message}`);
  }
  const idOf = (name: string, fallbacks: readonly string[]): number | undefined => {
    const configured = tokenString(config[name]);
    if (configured !== undefined) return tok.token_to_id(configured);
    for (const f of fallbacks) {
      const id = tok.token_to_id(f);
      if (id !== undefined) return id;
    }
    return undefined;
  };
  const bosId = idOf("bos_token", ["<bos>", "<s>"]);
  const eosId = idOf("eos_token", ["<eos>", "</s>"]);
  const padId = idOf("pad_token", ["<pad>"]);
  const unkId = idOf("unk_token", ["<unk>"]);

  // what the file's post-processor adds, for when the config does not say
  const probeWith = tok.encode("a").ids;
  const probeWithout = tok.encode("a", { add_special_tokens: false }).ids;
  const postAddsBos = probeWith.length > probeWithout.length && bosId !== undefined && probeWith[0] === bosId;
  const postAddsEos = probeWith.length > probeWithout.length && eosId !== undefined && probeWith[probeWith.length - 1] === eosId;
  const addBos = typeof config.add_bos_token === "boolean" ? config.add_bos_token : postAddsBos;
  const addEos = typeof config.add_eos_token === "boolean" ? config.add_eos_token : postAddsEos;
  if (addBos && bosId === undefined) throw new TokenizerError(`${where}: the config asks for a BOS token but the tokenizer has none`);

  const imageInVocab = tok.token_to_id(IMAGE_TOKEN);
  const imageTokenId = imageInVocab ?? IMAGE_TOKEN_INDEX;

  let maxId = -1;
  for (const id of tok.get_vocab(true).values()) if (id > maxId) maxId = id;
  const specialIds = new Set<number>(tok.get_added_tokens_decoder().keys());

  const encodeText = (text: string): number[] => (text === "" ? [] : tok.encode(text, { add_special_tokens: false }).ids);
  return {
    vocabSize: maxId + 1,
    bosId,
    eosId,
    padId,
    unkId,
    addBos,
    addEos,
    legacy: typeof config.legacy === "boolean" ? config.legacy : true,
    imageTokenId,
    imageTokenInVocab: imageInVocab !== undefined,
    specialIds,
    tokenId: (token) => tok.token_to_id(token),
    token: (id) => tok.id_to_token(id),
    encodeText,
    encode(text) {
      const ids: number[] = addBos ? [bosId as number] : [];
      text.split(IMAGE_TOKEN).forEach((chunk, k) => {
        if (k > 0) ids.push(imageTokenId);
        for (const id of encodeText(chunk)) ids.push(id);
      });
      return ids;
    },
    decode(ids, options = {}) {
      const real = ids.filter((id) => id >= 0);
      if (real.length === 0) return "";
      return tok.decode(real, { skip_special_tokens: options.skipSpecial ?? false });
    },
  };
}

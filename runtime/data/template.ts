/**
 * Chat templates and label masking, as LLaVA-Gemma and LLaVA-1.5 train (reference/llava-gemma.md
 * §1.6, §2.8; haotian-liu/LLaVA `llava/conversation.py`, `llava/train/train.py`).
 *
 * `gemma` (LLaVA-Gemma's `conv_gemma`): each turn is `role + text + "<end_of_turn>\n"` with the roles
 * `<start_of_turn>user\n` and `<start_of_turn>model\n`, no system message, BOS from the tokenizer:
 *
 *     <bos><start_of_turn>user\n<image>\nQ<end_of_turn>\n<start_of_turn>model\nA<end_of_turn>\n
 *
 * Labels follow `preprocess_gemma` exactly: the text is split on `<end_of_turn>\n` and re-paired into
 * (user, model) rounds; each round is split on `<end_of_turn>\n<start_of_turn>model\n`; BOS, the user
 * turn and the `<start_of_turn>model\n` header are -100; the answer, its `<end_of_turn>` and the `\n`
 * after it are trained (`round_len += 2`). If the rounds' token counts do not add up to the whole
 * (LLaVA's "tokenization mismatch"), every label is -100 and `mismatch` is set.
 *
 * `vicuna_v1` (LLaVA-1.5's `conv_vicuna_v1`, SeparatorStyle.TWO): a system message, then
 * `ROLE: text` with the separators " " after a user turn and "</s>" after an assistant turn:
 *
 *     <s>A chat between ... questions. USER: <image>\nQ ASSISTANT: A</s>USER: Q2 ASSISTANT: A2</s>
 *
 * Labels follow `preprocess_v1` exactly: the text is split into rounds on "</s>", each round on
 * " ASSISTANT: "; a round counts `len(tokenizer_image_token(round))` tokens (its BOS standing for the
 * "</s>" the split removed), its instruction that length of `round_instruction + " ASSISTANT: "` less
 * 2 (BOS, and the "▁" that merges into the answer's first token); from the second round on, both are
 * one less when the tokenizer is not `legacy` (LLaVA's IS_TOKENIZER_GREATER_THAN_0_14 case: "USER"
 * after "</s>" loses the prefix space the round's own tokenization gives it). BOS and instructions
 * are -100; the answers and their "</s>" are trained. Rounds that do not add up to the tokens that
 * are not padding (`<unk>`, LLaVA's pad for v1) mask the whole sample (`mismatch`).
 *
 * `plain` (LLaVA-1.5 stage 1, `preprocess_plain`): exactly one human and one gpt turn, the human text
 * replaced by `<image>`: `<bos><image>caption\n`; only the caption and `\n` are trained.
 *
 * The image placeholder is then expanded to the number of positions the model's image features take
 * (`imageTokens`), each labelled -100, as transformers' LLaVA expects (one `<image>` id per feature);
 * the sequence is truncated to `maxLength` after that expansion.
 */
import { IGNORE_INDEX, IMAGE_TOKEN } from "./constants.js";
import { DataError } from "./errors.js";
import type { LlavaTurn } from "./llava_json.js";
import type { TextTokenizer } from "./tokenizer.js";

export type ChatTemplate = "gemma" | "plain" | "vicuna_v1";

export const GEMMA_USER = "<start_of_turn>user\n";
export const GEMMA_MODEL = "<start_of_turn>model\n";
export const GEMMA_SEP = "<end_of_turn>\n";
const PLAIN_SEP = "\n";

/** LLaVA's `conv_vicuna_v1`. */
export const VICUNA_SYSTEM =
  "A chat between a curious user and an artificial intelligence assistant. " +
  "The assistant gives helpful, detailed, and polite answers to the user's questions.";
export const VICUNA_USER = "USER";
export const VICUNA_ASSISTANT = "ASSISTANT";
const VICUNA_SEP = " ";
export const VICUNA_SEP2 = "</s>";

export interface EncodeOptions {
  readonly template: ChatTemplate;
  /** the longest sequence the model takes, counting each image as `imageTokens` positions */
  readonly maxLength: number;
  /** positions of one image's features (CLIP-L/14 at 336: 576; a 32 px ViT with 8 px patches: 16) */
  readonly imageTokens: number;
}

export interface EncodedConversation {
  /** [T] token ids; the image is `imageTokens` consecutive copies of the tokenizer's `imageTokenId` */
  readonly inputIds: Int32Array;
  /** [T] -100 except the assistant's tokens (and, for gemma, their `<end_of_turn>` and `\n`) */
  readonly labels: Int32Array;
  /** position of the first image token, or -1 */
  readonly imageStart: number;
  /** positions taken by the image (0 for a text-only sample) */
  readonly imagePositions: number;
  /** the length before truncation */
  readonly fullLength: number;
  readonly truncated: boolean;
  /** LLaVA's "tokenization mismatch": the rounds did not add up, so every label is -100 */
  readonly mismatch: boolean;
}

function templateError(message: string): never {
  throw new DataError({ reason: "template", message });
}

/** Gemma's `get_prompt`: `role + message + sep` per turn; an empty message adds the role alone (LLaVA's `if message`). */
export function renderGemma(turns: readonly LlavaTurn[]): string {
  let out = "";
  for (const t of turns) {
    const role = t.role === "user" ? GEMMA_USER : GEMMA_MODEL;
    out += t.text ? role + t.text + GEMMA_SEP : role;
  }
  return out;
}

/**
 * Vicuna's `get_prompt` (SeparatorStyle.TWO): `system + sep`, then `role + ": " + message` and
 * `[sep, sep2][i % 2]` per turn; an empty message adds `role + ":"` alone. Turns alternate from the
 * user, as `preprocess_v1` asserts.
 */
export function renderVicuna(turns: readonly LlavaTurn[]): string {
  let out = VICUNA_SYSTEM + VICUNA_SEP;
  turns.forEach((t, i) => {
    const expected = i % 2 === 0 ? "user" : "assistant";
    if (t.role !== expected) templateError(`the \`vicuna_v1\` template needs turns alternating from the user; turn ${i + 1} is the ${t.role}'s`);
    const role = t.role === "user" ? VICUNA_USER : VICUNA_ASSISTANT;
    out += t.text ? `${role}: ${t.text}${i % 2 === 0 ? VICUNA_SEP : VICUNA_SEP2}` : `${role}:`;
  });
  return out;
}

/** The training text of a conversation under a template (without BOS, which the tokenizer adds). */
export function renderConversation(turns: readonly LlavaTurn[], template: ChatTemplate): string {
  if (template === "gemma") return renderGemma(turns);
  if (template === "vicuna_v1") return renderVicuna(turns);
  checkPlain(turns);
  return IMAGE_TOKEN + turns[1].text + PLAIN_SEP;
}

function checkPlain(turns: readonly LlavaTurn[]): void {
  if (turns.length !== 2) templateError(`the \`plain\` template takes one human and one gpt turn, found ${turns.length} turns`);
  if (!turns[0].text.includes(IMAGE_TOKEN)) templateError("the `plain` template needs an image: the human turn has no `<image>`");
}

/** `preprocess_gemma`'s labels over the unexpanded ids; returns whether the rounds added up. */
function gemmaLabels(prompt: string, ids: readonly number[], tokenizer: TextTokenizer, maxLength: number): { labels: number[]; mismatch: boolean } {
  const labels = ids.slice();
  const bos = tokenizer.addBos ? 1 : 0;
  const len = (text: string): number => tokenizer.encode(text).length - bos; // LLaVA's `len(tokenizer_image_token(x)) - 1`
  const instructionSep = GEMMA_SEP + GEMMA_MODEL;
  const parts = prompt.split(GEMMA_SEP);
  const rounds: string[] = [];
  for (let i = 0; i < parts.length; i += 2) rounds.push(parts.slice(i, i + 2).join(GEMMA_SEP));

  let cur = bos; // "skip BOS"
  for (let i = 0; i < cur && i < labels.length; i++) labels[i] = IGNORE_INDEX;
  for (const round of rounds) {
    if (round === "") break;
    const halves = round.split(instructionSep);
    if (halves.length !== 2) break;
    const roundLen = len(round) + 2; // + `<end_of_turn>` and `\n`, removed by the split ("from @martinakaduc")
    const instructionLen = len(halves[0] + instructionSep);
    for (let i = cur; i < cur + instructionLen && i < labels.length; i++) labels[i] = IGNORE_INDEX;
    cur += roundLen;
  }
  for (let i = cur; i < labels.length; i++) labels[i] = IGNORE_INDEX;
  const mismatch = cur < maxLength && cur !== ids.length;
  if (mismatch) labels.fill(IGNORE_INDEX);
  return { labels, mismatch };
}

/** `preprocess_v1`'s labels over the unexpanded ids; returns whether the rounds added up. */
function vicunaLabels(prompt: string, ids: readonly number[], tokenizer: TextTokenizer, maxLength: number): { labels: number[]; mismatch: boolean } {
  const labels = ids.slice();
  // `len(tokenizer_image_token(x))`, or `len(tokenizer(x).input_ids)` for a sample without image: the same ids
  const len = (text: string): number => tokenizer.encode(text).length;
  const sep = VICUNA_SEP + VICUNA_ASSISTANT + ": ";
  const pad = tokenizer.unkId ?? tokenizer.padId; // LLaVA's v1 pads with <unk>
  const total = ids.reduce((n, id) => n + (id !== pad ? 1 : 0), 0); // target.ne(pad_token_id).sum()
  let cur = 1;
  labels[0] = IGNORE_INDEX;
  const rounds = prompt.split(VICUNA_SEP2);
  for (let i = 0; i < rounds.length; i++) {
    const round = rounds[i];
    if (round === "") break;
    const parts = round.split(sep);
    if (parts.length !== 2) break;
    let roundLen = len(round);
    let instructionLen = len(parts[0] + sep) - 2;
    // LLaVA pins tokenizers 0.15.1, so IS_TOKENIZER_GREATER_THAN_0_14 holds
    if (i !== 0 && !tokenizer.legacy) {
      roundLen -= 1;
      instructionLen -= 1;
    }
    for (let k = cur; k < cur + instructionLen && k < labels.length; k++) labels[k] = IGNORE_INDEX;
    cur += roundLen;
  }
  for (let k = cur; k < labels.length; k++) labels[k] = IGNORE_INDEX;
  const mismatch = cur < maxLength && cur !== total;
  if (mismatch) labels.fill(IGNORE_INDEX);
  return { labels, mismatch };
}

/** Replaces the image placeholder by `imageTokens` copies (labels -100) and truncates to `maxLength`. */
function expandAndTruncate(
  ids: readonly number[],
  labels: readonly number[],
  tokenizer: TextTokenizer,
  hasImage: boolean,
  options: Pick<EncodeOptions, "maxLength" | "imageTokens">,
): Omit<EncodedConversation, "mismatch"> {
  const imageId = tokenizer.imageTokenId;
  const placeholders = ids.reduce((n, id) => n + (id === imageId ? 1 : 0), 0);
  if (!hasImage && placeholders > 0) templateError("the text has `<image>` but the sample has no image");
  if (hasImage && placeholders !== 1) templateError(`a sample with an image needs exactly one \`<image>\` in its text, found ${placeholders}`);
  if (hasImage && options.imageTokens < 1) templateError("the sample has an image but the model takes no image tokens (`imageTokens` is 0)");
  const n = hasImage ? options.imageTokens : 0;
  const fullLength = ids.length - placeholders + n;
  // the image is the only expanded span, so its position is the placeholder's
  const imageStart = hasImage ? ids.indexOf(imageId) : -1;
  if (hasImage && imageStart + n > options.maxLength) {
    throw new DataError({
      reason: "too-long",
      message: `the image does not fit in max_length ${options.maxLength}: it starts at position ${imageStart} and takes ${n} tokens (${imageStart + n} > ${options.maxLength})`,
    });
  }
  const outIds = new Int32Array(Math.min(fullLength, options.maxLength));
  const outLabels = new Int32Array(outIds.length);
  let o = 0;
  for (let i = 0; i < ids.length && o < outIds.length; i++) {
    if (i === imageStart) {
      outIds.fill(imageId, o, o + n);
      outLabels.fill(IGNORE_INDEX, o, o + n);
      o += n;
    } else {
      outIds[o] = ids[i];
      outLabels[o] = labels[i];
      o++;
    }
  }
  return { inputIds: outIds, labels: outLabels, imageStart, imagePositions: imageStart >= 0 ? n : 0, fullLength, truncated: fullLength > outIds.length };
}

/** Token ids and labels of one training conversation. `hasImage` says whether the sample has an image. */
export function encodeConversation(turns: readonly LlavaTurn[], hasImage: boolean, tokenizer: TextTokenizer, options: EncodeOptions): EncodedConversation {
  if (!Number.isInteger(options.maxLength) || options.maxLength < 1) templateError(`max_length must be a positive integer, got ${options.maxLength}`);
  if (turns.length === 0) templateError("the conversation is empty");
  if (options.template === "plain") {
    checkPlain(turns);
    const ids = tokenizer.encode(renderConversation(turns, "plain"));
    const labels = ids.slice();
    const prefix = tokenizer.encode(IMAGE_TOKEN).length; // `tokenizer_image_token("<image>")`: BOS + image
    for (let i = 0; i < prefix && i < labels.length; i++) labels[i] = IGNORE_INDEX;
    return { ...expandAndTruncate(ids, labels, tokenizer, hasImage, options), mismatch: false };
  }
  const prompt = renderConversation(turns, options.template);
  const ids = tokenizer.encode(prompt);
  // the mismatch check compares with max_length in LLaVA's (unexpanded) positions
  const label = options.template === "vicuna_v1" ? vicunaLabels : gemmaLabels;
  const { labels, mismatch } = label(prompt, ids, tokenizer, options.maxLength);
  return { ...expandAndTruncate(ids, labels, tokenizer, hasImage, options), mismatch };
}

/**
 * The prompt a model continues to answer: the turns so far (ending with a user turn) and the
 * assistant's header. `gemma`: `... <start_of_turn>user\nQ<end_of_turn>\n<start_of_turn>model\n`.
 * `vicuna_v1`: `<s>SYSTEM USER: Q ASSISTANT:` (LLaVA's eval: the assistant's message None).
 * `plain`: `<bos><image>` only, the prefix stage-1 training saw (the question text is not used).
 */
export function generationPrompt(
  turns: readonly LlavaTurn[],
  hasImage: boolean,
  tokenizer: TextTokenizer,
  options: Omit<EncodeOptions, "maxLength"> & { readonly maxLength?: number },
): { inputIds: Int32Array; imageStart: number } {
  if (turns.length === 0 || turns[turns.length - 1].role !== "user") templateError("a generation prompt must end with a user turn");
  const text =
    options.template === "plain"
      ? IMAGE_TOKEN
      : options.template === "vicuna_v1"
        ? renderVicuna([...turns, { role: "assistant", text: "" }])
        : renderGemma(turns) + GEMMA_MODEL;
  if (options.template === "plain" && !hasImage) templateError("the `plain` template needs an image");
  const ids = tokenizer.encode(text);
  const enc = expandAndTruncate(ids, ids, tokenizer, hasImage, { maxLength: options.maxLength ?? Number.MAX_SAFE_INTEGER, imageTokens: options.imageTokens });
  if (enc.truncated) templateError(`the prompt takes ${enc.fullLength} tokens, more than max_length ${options.maxLength}`);
  return { inputIds: enc.inputIds, imageStart: enc.imageStart };
}

/**
 * The tokens that end a generated answer: EOS, and the template's end of turn (`gemma`:
 * `<end_of_turn>`; `vicuna_v1`: its "</s>", Llama's EOS) when the vocabulary has it.
 */
export function stopTokenIds(template: ChatTemplate, tokenizer: TextTokenizer): number[] {
  const endOfTurn = template === "vicuna_v1" ? VICUNA_SEP2 : "<end_of_turn>";
  const ids = [tokenizer.eosId, tokenizer.tokenId(endOfTurn)].filter((x): x is number => x !== undefined);
  return [...new Set(ids)];
}

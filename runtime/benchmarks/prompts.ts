// The benchmarks' prompt conventions, as LLaVA's evaluation feeds the model. A prompt here is the
// user turn's text without the image token: LLaVA puts `<image>\n` in front of it
// (`model_vqa_loader.py`, `model_vqa_science.py`) and then applies the chat template.

import { pyStrip } from "./text.js";

/** LLaVA-1.5's short-answer instruction (VQAv2, GQA, POPE, MME), on its own line after the question. */
export const shortAnswerInstruction = "Answer the question using a single word or phrase.";

/** LLaVA-1.5's multiple-choice instruction (ScienceQA `--single-pred-prompt`), on its own line. */
export const optionLetterInstruction = "Answer with the option's letter from the given choices directly.";

/** The phrase MME questions end with. */
export const mmeYesNoPhrase = "Please answer yes or no.";

/** `question` + newline + the short-answer instruction (LLaVA's VQAv2, GQA and POPE question files). */
export function shortAnswerPrompt(question: string): string {
  return `${question}\n${shortAnswerInstruction}`;
}

/**
 * LLaVA's MME prompt: the question without its trailing "Please answer yes or no." (and the spaces
 * before it), then the short-answer instruction. `convert_answer_to_mme.py` undoes this to find
 * the official question.
 */
export function mmePrompt(question: string): string {
  const q = pyStrip(question);
  const stem = q.endsWith(mmeYesNoPhrase) ? q.slice(0, -mmeYesNoPhrase.length).replace(/ +$/, "") : q;
  return shortAnswerPrompt(stem);
}

/**
 * The official MME question for a LLaVA prompt, as `convert_answer_to_mme.py` rebuilds it: drop
 * the short-answer instruction, strip, and append " Please answer yes or no." if absent. The
 * candidates are tried in order (some official questions have two spaces before the phrase).
 */
export function mmeQuestionCandidates(prompt: string): string[] {
  const stem = pyStrip(prompt.replace(shortAnswerInstruction, ""));
  if (stem.includes(mmeYesNoPhrase)) return [stem];
  return [`${stem} ${mmeYesNoPhrase}`, `${stem}  ${mmeYesNoPhrase}`];
}

/** A ScienceQA problem as `problems.json` holds it. */
export interface ScienceQaProblem {
  readonly question: string;
  readonly choices: readonly string[];
  readonly answer: number;
  readonly hint?: string | null;
  readonly image?: string | null;
}

/** `(A) first (B) second ...`, as LLaVA's `convert_sqa_to_llava_base_prompt.py` lists options. */
export function scienceQaChoiceText(choices: readonly string[]): string {
  return choices.map((c, i) => `(${"ABCDE"[i]}) ${c}`).join(" ");
}

/**
 * LLaVA's CQM-A question (`convert_sqa_to_llava.py --prompt-format CQM-A`, which makes
 * `llava_test_CQM-A.json`): `Context: <hint or N/A>\nQuestion: ...\nOptions: (A) ... (B) ...`,
 * double spaces collapsed once, stripped.
 */
export function scienceQaQuestion(problem: ScienceQaProblem): string {
  const context = pyStrip(`${problem.hint ?? ""} `) || "N/A";
  const text = `Context: ${context}\nQuestion: ${problem.question}\nOptions: ${scienceQaChoiceText(problem.choices)}\n`;
  return pyStrip(text.replaceAll("  ", " "));
}

/**
 * What `model_vqa_science.py --single-pred-prompt` asks: the file's question without `<image>`,
 * stripped, then the option-letter instruction on its own line.
 */
export function scienceQaPrompt(llavaQuestion: string): string {
  return `${pyStrip(llavaQuestion.replaceAll("<image>", ""))}\n${optionLetterInstruction}`;
}

/** Splits MMVP's `(a) X (b) Y` into `["X", "Y"]`. */
export function mmvpOptionList(options: string): string[] {
  const parts = options.split(/\(([a-z])\)/i);
  // parts: [before, "a", text, "b", text, ...]
  const out: string[] = [];
  for (let i = 2; i < parts.length; i += 2) out.push(pyStrip(parts[i]));
  return out.length > 0 ? out : [pyStrip(options)];
}

/**
 * MMVP prompts. `lmms`: `question\nA. X\nB. Y\n` + the option-letter instruction (lmms-eval, the
 * deterministic rule's convention; the default). `official`: `question (a) X (b) Y`, as the
 * MMVP authors' `evaluate_mllm.py` asks before GPT-4 grading.
 */
export type MmvpPromptStyle = "lmms" | "official";

export function mmvpPrompt(question: string, options: string, style: MmvpPromptStyle = "lmms"): string {
  if (style === "official") return `${question} ${options}`;
  const listed = mmvpOptionList(options).map((o, i) => `${String.fromCharCode(65 + i)}. ${o}`);
  return `${question}\n${listed.join("\n")}\n${optionLetterInstruction}`;
}

/** The user turn as LLaVA builds it: the image token, a newline, the prompt (no image: the prompt alone). */
export function withImageToken(prompt: string, hasImage: boolean, token = "<image>"): string {
  return hasImage ? `${token}\n${prompt}` : prompt;
}

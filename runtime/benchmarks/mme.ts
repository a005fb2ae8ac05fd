// MME (evals.md §4): the official `eval_tool/calculation.py`, fed by LLaVA's
// `convert_answer_to_mme.py`. Within a subtask, items 1-2, 3-4, ... are the two questions of one
// image, paired purely by position.

import { ItemError, mmeSubtasks, type MmeItem } from "./items.js";
import { codePoints, pyLower } from "./text.js";

export type MmeParse = "yes" | "no" | "other";

export interface MmeSubtaskScores {
  /** 100 * acc + 100 * acc_plus (max 200) */
  readonly score: number;
  readonly acc: number;
  readonly acc_plus: number;
  readonly images: number;
  readonly questions: number;
  /** questions whose answer parsed as neither yes nor no */
  readonly other_num: number;
  readonly parsed: MmeParse[];
  readonly category: "Perception" | "Cognition";
}

export interface MmeScores {
  /** sum of the Perception subtasks' scores present (max 2000 with all 10) */
  readonly perception_total: number;
  /** sum of the Cognition subtasks' scores present (max 800 with all 4) */
  readonly cognition_total: number;
  readonly subtasks: Record<string, MmeSubtaskScores>;
}

/**
 * `calculation.py`'s parse of a lower-cased prediction: exactly `yes`/`no`; else look only at the
 * first 4 code points: `yes` in them -> yes, else `no` in them -> no, else other. (The official
 * result line still ends with a newline; it cannot change the outcome.)
 */
export function mmeParse(prediction: string): MmeParse {
  const text = pyLower(prediction);
  if (text === "yes" || text === "no") return text;
  const prefix = codePoints(text).slice(0, 4).join("");
  if (prefix.includes("yes")) return "yes";
  if (prefix.includes("no")) return "no";
  return "other";
}

/** The subtasks missing from `items` (the official script needs all 14). */
export function mmeMissingSubtasks(items: readonly MmeItem[]): string[] {
  const present = new Set(items.map((i) => i.subtask));
  return mmeSubtasks.map(([name]) => name).filter((name) => !present.has(name));
}

export function scoreMme(items: readonly MmeItem[]): MmeScores {
  const bySubtask = new Map<string, { item: MmeItem; index: number }[]>();
  items.forEach((item, index) => {
    const list = bySubtask.get(item.subtask);
    if (list) list.push({ item, index });
    else bySubtask.set(item.subtask, [{ item, index }]);
  });
  const subtasks = new Map<string, MmeSubtaskScores>();
  let perception = 0;
  let cognition = 0;
  for (const [name, category] of mmeSubtasks) {
    const list = bySubtask.get(name);
    if (!list) continue;
    if (list.length % 2 !== 0) {
      const last = list[list.length - 1].index;
      throw new ItemError(last, "subtask", `subtask \`${name}\` has ${list.length} questions; MME pairs them two per image, so the count must be even`);
    }
    const parsed = list.map(({ item }) => mmeParse(item.prediction));
    const right = list.map(({ item }, i) => parsed[i] === pyLower(item.answer));
    let correct = 0;
    for (const r of right) if (r) correct++;
    let bothRight = 0;
    for (let i = 0; i < right.length; i += 2) if (right[i] && right[i + 1]) bothRight++;
    const images = list.length / 2;
    const acc = correct / list.length;
    const accPlus = bothRight / images;
    const score = 0 + acc * 100 + accPlus * 100;
    subtasks.set(name, {
      score,
      acc,
      acc_plus: accPlus,
      images,
      questions: list.length,
      other_num: parsed.filter((p) => p === "other").length,
      parsed,
      category,
    });
    if (category === "Perception") perception += score;
    else cognition += score;
  }
  return { perception_total: perception, cognition_total: cognition, subtasks: Object.fromEntries(subtasks) };
}

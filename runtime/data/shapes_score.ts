/**
 * The scorer of the synthetic shapes test split: exact match after a simple normalisation, overall
 * and per question type, with the majority-answer baseline of each type (what a model that never
 * looks at the image can reach at best by always giving that type's most common answer).
 *
 * Items file (the common shape of `reference/evals.md`):
 *     { "benchmark": "synthetic_shapes", "description": "...", "items": [
 *       { "question_id": "shapes-test-00012-0", "image": "images/test/00012.png",
 *         "question": "What color is the circle?", "prompt": "<image>\nWhat color ...\nAnswer ...",
 *         "answer": "red", "type": "color", "prediction": "Red." }, ...] }
 * `prompt` is the exact human turn to give the model; `prediction` is added by the evaluation.
 */

export interface ShapesItem {
  readonly question_id: string;
  /** relative to the dataset folder */
  readonly image: string;
  /** the bare question */
  readonly question: string;
  /** the human turn as the model sees it (with `<image>` and the short-answer suffix) */
  readonly prompt: string;
  readonly answer: string;
  readonly type: string;
  readonly prediction?: string;
}

export interface ShapesItemsFile {
  readonly benchmark: "synthetic_shapes";
  readonly description: string;
  readonly items: readonly ShapesItem[];
}

export interface Accuracy {
  /** percent: 100 * correct / count */
  readonly accuracy: number;
  readonly correct: number;
  readonly count: number;
}

export interface ShapesScores extends Accuracy {
  readonly perType: Readonly<Record<string, Accuracy>>;
  /** per type: the most common answer and the accuracy of always giving it */
  readonly majorityBaseline: Readonly<Record<string, { readonly answer: string; readonly accuracy: number }>>;
}

const NUMBERS: Record<string, string> = {
  zero: "0",
  none: "0",
  one: "1",
  two: "2",
  three: "3",
  four: "4",
  five: "5",
  six: "6",
  seven: "7",
  eight: "8",
  nine: "9",
  ten: "10",
};
const ARTICLES = new Set(["a", "an", "the"]);

/** Lower-case, punctuation to spaces, articles dropped, number words to digits, single spaces. */
export function normaliseShapesAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .split(" ")
    .filter((w) => w !== "" && !ARTICLES.has(w))
    .map((w) => NUMBERS[w] ?? w)
    .join(" ");
}

function percent(correct: number, count: number): number {
  return count === 0 ? 0 : (100 * correct) / count;
}

/** Scores items that carry a `prediction`; throws naming the first item without one. */
export function scoreShapes(items: readonly Pick<ShapesItem, "question_id" | "answer" | "type" | "prediction">[]): ShapesScores {
  const byType = new Map<string, { correct: number; count: number; answers: Map<string, number> }>();
  let correct = 0;
  items.forEach((item, k) => {
    if (typeof item.prediction !== "string") {
      throw new Error(`item ${k} (\`${item.question_id}\`) has no \`prediction\` string`);
    }
    const ok = normaliseShapesAnswer(item.prediction) === normaliseShapesAnswer(item.answer);
    let t = byType.get(item.type);
    if (!t) {
      t = { correct: 0, count: 0, answers: new Map() };
      byType.set(item.type, t);
    }
    t.count++;
    const gold = normaliseShapesAnswer(item.answer);
    t.answers.set(gold, (t.answers.get(gold) ?? 0) + 1);
    if (ok) {
      t.correct++;
      correct++;
    }
  });
  const perType: Record<string, Accuracy> = {};
  const majorityBaseline: Record<string, { answer: string; accuracy: number }> = {};
  for (const type of [...byType.keys()].sort()) {
    const t = byType.get(type) as { correct: number; count: number; answers: Map<string, number> };
    perType[type] = { accuracy: percent(t.correct, t.count), correct: t.correct, count: t.count };
    let best = "";
    let bestCount = -1;
    for (const [answer, n] of [...t.answers.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (n > bestCount) {
        best = answer;
        bestCount = n;
      }
    }
    majorityBaseline[type] = { answer: best, accuracy: percent(bestCount, t.count) };
  }
  return { accuracy: percent(correct, items.length), correct, count: items.length, perType, majorityBaseline };
}

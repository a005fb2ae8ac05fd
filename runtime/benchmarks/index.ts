// Benchmark evaluation: loaders for the usual file layouts, prompt conventions, generation
// settings, and scorers implementing the official rules (docs/evaluation.md).

export { benchmarkName, benchmarkNames, ItemError, mmeSubtasks, parseItemsFile, validateItems } from "./items.js";
export type { BenchmarkName, GqaItem, ItemsByBenchmark, ItemsFile, MmeItem, MmvpItem, PopeItem, ScienceQaItem, Vqav2Item } from "./items.js";
export { score, scoreNotes, scoresObject, scoreValidated } from "./score.js";
export { renderTables, summarizeScores } from "./summary.js";
export type { SummaryTable } from "./summary.js";
export type { ScoresByBenchmark, ScoresObject } from "./score.js";
export { scoreVqav2, vqaQuestionAccuracy } from "./vqa.js";
export type { VqaAccuracy, VqaModeScores, VqaQuestionResult, Vqav2Scores } from "./vqa.js";
export { evalAIAnswer, normalizeVqaAnswer, processDigitArticle, processPunctuation } from "./vqa_normalize.js";
export { gqaConvertPrediction, scoreGqa } from "./gqa.js";
export type { GqaScores } from "./gqa.js";
export { popeMetrics, popeParse, scorePope } from "./pope.js";
export type { PopeMetrics, PopeScores } from "./pope.js";
export { mmeMissingSubtasks, mmeParse, scoreMme } from "./mme.js";
export type { MmeScores, MmeSubtaskScores } from "./mme.js";
export { scienceQaIndex, scienceQaParse, scoreScienceQa } from "./scienceqa.js";
export type { ScienceQaScores } from "./scienceqa.js";
export { mmvpGold, mmvpJudgeCorrect, mmvpLetter, scoreMmvp } from "./mmvp.js";
export type { MmvpScores } from "./mmvp.js";
export { benchmarkLayouts } from "./layouts.js";
export type { BenchmarkLayout } from "./layouts.js";
export { generationSettings } from "./generation.js";
export type { GenerationSettings } from "./generation.js";
export {
  mmePrompt, mmeQuestionCandidates, mmvpOptionList, mmvpPrompt, optionLetterInstruction, scienceQaChoiceText, scienceQaPrompt,
  scienceQaQuestion, shortAnswerInstruction, shortAnswerPrompt, withImageToken,
} from "./prompts.js";
export type { MmvpPromptStyle, ScienceQaProblem } from "./prompts.js";
export { BenchmarkFileError, loadBenchmark, toScoringItems } from "./loaders/index.js";
export type { Predictions } from "./loaders/index.js";
export type { EvalItem, LoadedBenchmark, LoadOptions, ScoringFields } from "./loaders/types.js";
export { vqav2Submission } from "./loaders/vqav2.js";
export { codePoints, pyLower, pyRstrip, pySplit, pyStrip, roundPy2 } from "./text.js";
export { headline } from "./headline.js";
export { answerId, answerLine, AnswersFileError, parseAnswers, pythonJson } from "./answers.js";
export type { AnswerRecord, ParsedAnswers, ReadAnswer } from "./answers.js";

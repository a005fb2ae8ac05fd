/**
 * An eval stage's answers file, `stages/KEY/NAME.answers.jsonl` (LLaVA's format,
 * runtime/benchmarks/answers.ts): answers are appended a batch at a time and fsync'd before the
 * next batch is generated, so a crash loses at most the batch being generated. Opening the file
 * again resumes it: the complete lines are kept (a line cut short by the crash is removed), must
 * answer the first questions in order, and only the others are generated.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { answerId, answerLine, parseAnswers } from "../benchmarks/answers.js";
import { RunDataError } from "./data.js";

/** One question as the answers file records it. */
export interface AnsweredQuestion {
  /** the question file's id (its JSON type kept) */
  readonly questionId: string | number;
  /** the script's `cur_prompt` */
  readonly prompt: string;
}

export class AnswersFile {
  private readonly fd: number;
  /** how often each question id was answered so far (MME asks two questions per id) */
  private readonly seen = new Map<string, number>();

  private constructor(
    readonly path: string,
    /** the answers already in the file, in question order */
    readonly done: readonly string[],
    private readonly ids: { readonly stageKey: string; readonly benchmark: string; readonly modelId: string },
    fd: number,
    questions: readonly AnsweredQuestion[],
  ) {
    this.fd = fd;
    for (const q of questions.slice(0, done.length)) this.count(q.questionId);
  }

  private count(id: string | number): number {
    const key = `${typeof id}:${id}`;
    const n = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, n);
    return n;
  }

  /**
   * Opens (or creates) the answers file for `questions`. Answers already there must be for the first
   * questions, in order; otherwise the file belongs to other questions and the run stops with a
   * message naming it.
   */
  static open(
    path: string,
    questions: readonly AnsweredQuestion[],
    ids: { readonly stageKey: string; readonly benchmark: string; readonly modelId: string },
  ): AnswersFile {
    mkdirSync(dirname(path), { recursive: true });
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    const parsed = parseAnswers(text, path);
    if (parsed.answers.length > questions.length) {
      throw new RunDataError(`${path} holds ${parsed.answers.length} answers but ${ids.benchmark} has ${questions.length} questions; delete it to answer again`);
    }
    parsed.answers.forEach((a, i) => {
      const q = questions[i];
      if (a.questionId !== q.questionId) {
        throw new RunDataError(
          `${path}: line ${a.line} answers question ${JSON.stringify(a.questionId)}, but question ${i + 1} of ${ids.benchmark} is ${JSON.stringify(q.questionId)}; delete the file to answer again`,
        );
      }
    });
    const fd = openSync(path, existsSync(path) ? "r+" : "w+");
    try {
      // drop a line cut short by a crash; end a complete last line that lacks its newline
      ftruncateSync(fd, parsed.completeBytes);
      if (parsed.missingNewline) writeSync(fd, "\n", parsed.completeBytes);
      fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return new AnswersFile(path, parsed.answers.map((a) => a.text), ids, fd, questions);
  }

  /** Appends the answers of a batch and forces them to disk. */
  append(batch: readonly { question: AnsweredQuestion; text: string }[]): void {
    const text = batch
      .map(({ question, text }) =>
        answerLine({
          question_id: question.questionId,
          prompt: question.prompt,
          text,
          answer_id: answerId(this.ids.stageKey, this.ids.benchmark, String(question.questionId), String(this.count(question.questionId))),
          model_id: this.ids.modelId,
          metadata: {},
        }),
      )
      .join("");
    const bytes = Buffer.from(text, "utf8");
    let written = 0;
    // positional writes at the end: the file was opened r+/w+ (not append) so truncation above holds
    const end = fstatSync(this.fd).size;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written, end + written);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

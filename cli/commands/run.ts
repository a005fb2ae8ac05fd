import { totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { listOption, stringOption, type ParsedArgs } from "../args.js";
import type { Command } from "../command.js";
import { Exit, UsageError } from "../exit.js";
import { importGraphSource } from "../graph_import.js";
import { sameContent, writeTree } from "../../core/files.js";
import { validatePlan } from "../../plan/io.js";
import { variantFolder } from "../../plan/names.js";
import type { Output } from "../output.js";
import { Progress } from "../progress.js";
import { compileSpec, printDiagnostics, specOptions, specPath } from "../spec.js";

export const command: Command = {
  name: "run",
  usage: "mmfmc run FILE [--variant ID]... [--only PATH=VALUE]... [--set PATH=VALUE]... [--backend NAME] [--jobs N] [--runs DIR]",
  help: `Builds the spec, then trains and evaluates its variants on the TensorFlow.js runtime, and writes
a report (runs/EXPERIMENT/report.md, .csv, .json and loss.svg).

Results are kept per stage under runs/EXPERIMENT/stages/KEY, where KEY hashes the stage's
configuration together with everything before it: variants sharing a prefix of stages compute it
once, and running an unchanged spec again does no work. A training stage writes a checkpoint every
\`checkpoint_every\` steps; after a crash or kill, the next run resumes it from there with the same
result. Before training, each variant's memory and time are estimated on the backend; a variant
that cannot fit is refused (train it with \`mmfmc export\` instead).

options:
  --variant ID        run only this variant (its full id or its labels; repeatable)
  --only PATH=VALUE   run the variants whose axis PATH has this label or value (repeatable)
  --set PATH=VALUE    override a value of the spec (repeatable)
  --backend NAME      tensorflow-gpu, webgpu, tensorflow, wasm or cpu (default: the fastest
                      available; also MMFM_BACKEND)
  --threads N         wasm threads (default 1; also MMFM_THREADS); with --jobs, per job
  --jobs N            run up to N variants side by side, each in its own worker thread on its own
                      backend (default 1; also MMFM_JOBS). On a CPU, one job per core with one
                      thread each is the fastest way through a grid; variants sharing a stage still
                      to compute run one after the other. The results are the same digits.
  --runs DIR          results folder (default: runs)
  --out DIR           build folder (default: build)
  --baseline ID       the variant the report compares against (default: the first)`,
  options: {
    ...specOptions,
    variant: { value: true, repeat: true },
    backend: { value: true },
    threads: { value: true },
    jobs: { value: true, short: "j" },
    runs: { value: true },
    out: { value: true, short: "o" },
    baseline: { value: true },
  },
  async run(args, out) {
    // SIGINT/SIGTERM stop the run at a step boundary with a checkpoint (as PID 1 in a container a
    // process without handlers ignores both, so `docker stop` would end in SIGKILL); a second one stops now
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) {
        out.info(`${signal} again: stopping now (the next run takes over the lock and resumes from the last checkpoint)`);
        process.exit(signal === "SIGINT" ? Exit.Interrupted : Exit.Terminated);
      }
      stop.abort(signal);
      out.info(`${signal}: stopping at the next step boundary, with a checkpoint (${signal} again stops now)`);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      return await runCommand(args, out, stop.signal);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
};

async function runCommand(args: ParsedArgs, out: Output, stop: AbortSignal): Promise<number> {
  const started = performance.now();
  const file = specPath(args, "run");
  const result = await compileSpec(file, args);
  printDiagnostics(result, out);
  if (result.diagnostics.hasErrors) return Exit.InputErrors;
  const threadsText = stringOption(args, "threads");
  const threads = threadsText === undefined ? undefined : Number(threadsText);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new UsageError(`--threads must be a positive integer, got \`${threadsText}\``);
  const jobsText = stringOption(args, "jobs") ?? (process.env.MMFM_JOBS || undefined);
  const jobs = jobsText === undefined ? 1 : Number(jobsText);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive integer, got \`${jobsText}\``);
  const { emitExperiments, planExperiments, selectVariants } = await import("../../compiler/pipeline.js");
  const planned = planExperiments(result, { specPath: file, outDir: stringOption(args, "out") ?? "build" });
  const source = relative(process.cwd(), resolve(file)) || file;
  const built = await emitExperiments(planned, { source, unchanged: (dir, path, text) => sameContent(join(dir, path), text) });
  for (const b of built) writeTree(b.dir, b.files);
  if (built.length === 0) {
    out.info(`${file} declares no experiment; nothing to run`);
    return Exit.Ok;
  }
  const chosenExperiments = selectVariants(result, planned, listOption(args, "variant"));
  if (result.diagnostics.hasErrors) {
    printDiagnostics(result, out);
    return Exit.InputErrors;
  }
  const chosen = chosenExperiments.flatMap((e) => e.plans.map((plan) => ({ experiment: e.name, dir: e.dir, plan, folder: variantFolder(plan.id) })));

  const { initBackend } = await import("../../runtime/backend/index.js");
  // the choice is printed once below; the backends passed over are listed first
  const backend = await initBackend({ backend: stringOption(args, "backend"), threads, log: (line: string) => (/skipping/.test(line) ? out.info(out.paint("dim", line)) : undefined) });
  const threadsNote = backend.name === "wasm" ? `, ${backend.threads} thread${backend.threads === 1 ? "" : "s"}` : "";
  out.info(`backend: ${backend.name}${threadsNote}${backend.device ? ` (${backend.device})` : ""}: ${backend.reason}`);

  const run = await import("../../runtime/run/index.js");
  const { measureFlops } = await import("../../runtime/run/calibrate.js");
  const capacity = {
    name: backend.name,
    memoryLimit: backend.name === "wasm" ? 4 * 1024 ** 3 : backend.gpu ? null : totalmem(),
    flops: await measureFlops(),
  };
  const specFile = relative(process.cwd(), resolve(file)) || file;
  const runnable: typeof chosen = [];
  let refused = 0;
  for (const v of chosen) {
    const estimates = run.estimateVariant(v.plan, capacity);
    if (estimates.every((e) => e.fits)) {
      runnable.push(v);
      const time = estimates.reduce((t, e) => t + (e.seconds ?? 0), 0);
      out.info(out.paint("dim", `preflight ${v.plan.id}: ${estimates.map((e) => `${e.stage} ${run.showBytes(e.bytes)}${e.seconds !== null ? ` ~${Math.ceil(e.seconds)} s` : ""}`).join(", ")}${time ? ` (about ${time < 90 ? `${Math.ceil(time)} s` : `${Math.ceil(time / 60)} min`} of training)` : ""}`));
    } else {
      refused++;
      out.info(`${out.paint("red", "refused")} ${run.refusal(v.plan, estimates, capacity, specFile)}`);
    }
  }

  const runsDir = stringOption(args, "runs") ?? "runs";
  const sideBySide = run.sideBySide(backend.name);
  if (jobs > 1 && !sideBySide) out.info(out.paint("dim", `--jobs ${jobs}: the ${backend.name} backend runs one variant at a time (variants run side by side on wasm and cpu)`));
  const parallel = jobs > 1 && sideBySide && runnable.length > 1;
  const progress = new Progress(out, undefined, parallel);
  const experiments = [...new Set(runnable.map((v) => v.experiment))];
  let trained = 0;
  let evaluated = 0;
  let cached = 0;
  const reports: string[] = [];
  try {
    for (const experiment of experiments) {
      const variants = [];
      for (const v of runnable.filter((x) => x.experiment === experiment)) {
        // the module as this command wrote it (not read back: another command may write the same folder)
        const graphPath = join(v.dir, v.folder, "graph.ts");
        const text = built.find((b) => b.dir === v.dir)?.files.find((f) => f.path === `${v.folder}/graph.ts`)?.text;
        if (text === undefined) throw new Error(`${graphPath} was not among the files just built`);
        const module = await importGraphSource(text, graphPath);
        // the plan a module carries is checked against the schema, and must be the one just built
        const problems = validatePlan(module.plan);
        if (problems.length || module.plan.hash !== v.plan.hash) {
          out.info(`${out.paint("red", "internal error")}: ${graphPath} does not carry the plan just built${problems.length ? `:\n  ${problems.slice(0, 5).join("\n  ")}` : ""}`);
          return Exit.Internal;
        }
        variants.push({ plan: module.plan, graph: module.model, folder: v.folder });
      }
      const summary = await run.runExperiment({ experiment, variants, runsDir, specDir: dirname(resolve(file)), emit: progress.handle, stop,
        jobs: parallel ? { count: jobs, backend: { name: backend.name, threads: backend.threads } } : undefined,
      });
      progress.finish();
      trained += summary.computed.filter((r) => r.kind === "stage").length;
      evaluated += summary.computed.filter((r) => r.kind === "eval").length;
      cached += summary.cached.length;
      const store = new run.RunStore(summary.dir);
      const order = built.find((b) => b.name === experiment)!.plans.map((p) => p.id);
      const report = run.buildReport(store, { experiment, baseline: stringOption(args, "baseline"), order });
      const files = run.writeReport(store, report);
      reports.push(relative(process.cwd(), files[0]) || files[0]);
    }
  } catch (error) {
    progress.finish();
    if (error instanceof run.RunInterrupted) {
      out.info(error.message.replace(/^stopped/, out.paint("yellow", "stopped")));
      return error.signal === "SIGINT" ? Exit.Interrupted : Exit.Terminated;
    }
    if (run.isInputError(error)) {
      out.info(`${out.paint("red", "error")}: ${error.message}`);
      return Exit.InputErrors;
    }
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  const time = seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s` : `${seconds.toFixed(1)}s`;
  const mark = refused ? out.paint("yellow", "!") : out.paint("green", "✓");
  out.info(
    `${mark} ${runnable.length} variant${runnable.length === 1 ? "" : "s"} in ${time}: ${trained} stage${trained === 1 ? "" : "s"} trained, ${evaluated} evaluated, ${cached} cached` +
      (refused ? `, ${refused} refused` : "") +
      (reports.length ? `; report ${reports.join(", ")}` : ""),
  );
  return refused ? Exit.InputErrors : Exit.Ok;
}

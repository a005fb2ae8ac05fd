/**
 * The GPU check's results as Markdown, and the command that puts them into docs/benchmarks.md:
 *
 *   node bench/out/bench/gpu/report.js gpu-check.json                       # prints the Markdown
 *   node bench/out/bench/gpu/report.js gpu-check.json --write docs/benchmarks.md
 *
 * `--write` replaces what stands between `<!-- gpu-check:begin -->` and `<!-- gpu-check:end -->`.
 */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { CheckResult, DecoderResult } from "./results.js";
import { formatParams } from "./configs.js";
import type { StepTimes } from "./steps.js";

export const BEGIN = "<!-- gpu-check:begin -->";
export const END = "<!-- gpu-check:end -->";

function gib(bytes: number | undefined): string {
  return bytes == null ? "?" : `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

function steps(t: StepTimes | undefined): string {
  return t == null ? "—" : `${t.medianMs} ms (${t.gflops} GFLOP/s)`;
}

function decoderRow(d: DecoderResult): string {
  const c = d.config;
  const torch = d.torch == null ? (d.skipped?.find((s) => s.startsWith("PyTorch")) != null ? "not run" : "—") : `${d.torch.medianMs} ms (${d.torch.gflops} GFLOP/s, ${d.torch.device})`;
  const readbacks = d.webgpu == null ? "—" : String(d.webgpu.readbacksPerStep.gpu);
  return `| ${d.name} | ${formatParams(d.params)} | ${c.batch} × ${c.seq} | ${steps(d.webgpu)} | ${steps(d.webgpuUnfused)} | ${torch} | ${d.speedVsTorch != null ? `${d.speedVsTorch}×` : "—"} | ${d.firstLossDiff != null ? d.firstLossDiff.toExponential(1) : "—"} | ${readbacks} |`;
}

export function renderMarkdown(r: CheckResult): string {
  const out: string[] = [];
  const card = r.host.gpu ?? r.webgpu?.adapter ?? "no GPU";
  const software = r.webgpu?.software === true;
  out.push(`### ${software ? "Software adapter" : card}, ${r.date.slice(0, 10)} (\`--size ${r.size}\`${software ? ": a rehearsal, not GPU numbers" : ""})`);
  out.push("");
  const torch = r.torch == null ? "not asked" : "missing" in r.torch ? r.torch.missing : `PyTorch ${r.torch.version}${r.torch.cuda ? " on CUDA (fp32, TF32 off)" : " on the CPU"}`;
  out.push(`Host: ${r.host.cpu}, ${r.host.cores} cores, ${r.host.memoryGiB} GiB, Node ${r.host.node}; GPU (nvidia-smi): ${r.host.gpu ?? "none"}; ${torch}.`);
  if (r.webgpu != null) {
    const w = r.webgpu;
    const listed = w.listed.map((a) => `${a.name} (${a.backend})`).join(", ") || "none";
    out.push(
      `WebGPU: ${w.adapter} — ${w.reason}; Dawn listed ${listed}. Device limits: maxBufferSize ${gib(w.limits.maxBufferSize)}, ` +
        `maxStorageBufferBindingSize ${gib(w.limits.maxStorageBufferBindingSize)}; timestamp queries ${w.timestamps ? "yes" : "no"}.`,
    );
  }
  out.push("");
  if (r.parity != null) {
    const p = r.parity;
    out.push(
      `**(a) Tiny LLaVA, WebGPU against wasm** (forward logits, loss, every weight after one AdamW step; tolerance ${p.tolerance}): ` +
        `${p.ok ? "equal" : "**different**"} — logits ${p.logitsMaxRel.toExponential(1)}, loss ${p.lossAbs.toExponential(1)}, weights ${p.paramsMaxRel.toExponential(1)}; vision tower frozen: ${p.visionFrozen}.`,
    );
    out.push("");
  }
  if (r.decoders.length > 0) {
    out.push("**(b, c) Decoder training step** (forward, backward, clipping, AdamW; median of the timed steps after a warm-up; each step ends by reading its loss):");
    out.push("");
    out.push("| decoder | parameters | batch | mmfm WebGPU, fused ops | unfused | PyTorch | mmfm speed vs PyTorch | first-loss difference | GPU readbacks per step |");
    out.push("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const d of r.decoders) out.push(decoderRow(d));
    out.push("");
  }
  const profiled = r.decoders.find((d) => d.webgpu?.profile != null);
  if (profiled?.webgpu?.profile != null) {
    const p = profiled.webgpu.profile;
    if (p.kernelMs > 0) {
      out.push(`Kernel times of one profiled ${profiled.name} step (tf.profile, GPU timestamps): ${p.kernelMs.toFixed(1)} ms in ${p.kernels} kernels (wall ${p.wallMs} ms, profiling included).`);
      out.push("");
      out.push("| kernel | ms | share | calls |");
      out.push("| --- | --- | --- | --- |");
      for (const k of p.top.slice(0, 12)) out.push(`| ${k.name} | ${k.ms.toFixed(2)} | ${(100 * k.share).toFixed(1)} % | ${k.calls} |`);
    } else out.push(`One profiled ${profiled.name} step: ${p.kernels} kernels, no GPU times (the device has no timestamp queries).`);
    out.push("");
  }
  if (r.limit != null) {
    const l = r.limit;
    out.push(`**(d) Largest decoder that trains** (one AdamW step, batch ${l.batch} × ${l.seq}, weights filled on the device): ${l.largestOk != null ? `${formatParams(l.largestOk.params)} parameters` : "none"}. Limit: ${l.limit}.`);
    out.push("");
    out.push("| layers × width | parameters | largest tensor | result |");
    out.push("| --- | --- | --- | --- |");
    for (const t of l.trials) {
      const result = t.ok ? `trains, ${t.stepMs} ms${t.gpuMemoryMiB != null ? `, ${t.gpuMemoryMiB} MiB in use` : ""}` : `fails: ${(t.error ?? "").slice(0, 160).replace(/\|/g, "/")}`;
      out.push(`| ${t.config.layers} × ${t.config.width} | ${formatParams(t.params)} | ${gib(t.largestTensorBytes)} | ${result} |`);
    }
    out.push("");
  }
  if (r.skipped.length > 0) out.push(`Skipped: ${r.skipped.join("; ")}.`, "");
  if (r.errors.length > 0) out.push(`Errors: ${r.errors.map((e) => e.split("\n")[0]).join("; ")}.`, "");
  out.push(`The whole check took ${r.seconds} s.`);
  return `${out.join("\n")}\n`;
}

/** Puts `markdown` between the markers of `doc`; an error names the missing marker. */
export function spliceResults(doc: string, markdown: string): string {
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b < 0 || e < b) throw new Error(`the document has no \`${BEGIN}\` ... \`${END}\` section to replace`);
  return `${doc.slice(0, b + BEGIN.length)}\n${markdown}${doc.slice(e)}`;
}

function main(argv: string[]): void {
  const [file, flag, target] = argv;
  if (file == null || (flag != null && (flag !== "--write" || target == null))) {
    throw new Error("usage: report.js RESULT.json [--write docs/benchmarks.md]");
  }
  const result = JSON.parse(fs.readFileSync(file, "utf8")) as CheckResult;
  if (result.schema !== "mmfm-gpu-check/1") throw new Error(`${file} is not a GPU check result (schema ${String(result.schema)})`);
  const md = renderMarkdown(result);
  if (flag == null) process.stdout.write(md);
  else {
    fs.writeFileSync(target, spliceResults(fs.readFileSync(target, "utf8"), md));
    process.stderr.write(`wrote the GPU check results into ${target}\n`);
  }
}

if (process.argv[1] != null && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`report: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}

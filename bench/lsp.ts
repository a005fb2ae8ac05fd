/**
 * Latency of the language server on generated 2,000-line specs (bench/lsp-spec.ts: 52 groups of
 * backbones, a model and a stage, with an experiment of a 2 x 2 grid per group (208 variants), or
 * one experiment for the file (4 variants)), measured from a client over stdio as an editor sees it:
 *   - open: didOpen -> first diagnostics (cold process: the first check)
 *   - edit: didChange -> diagnostics of that version, for an edit of one value (warm; the debounce is
 *     set to 0 so the time is the check's), an edit that breaks the syntax, and its repair;
 *     the server's own time for the check beside it
 *   - hover on a model (parameter counts), completion of a field
 *   - in process, the same edit checked by `compile` with the server's incremental parser and without
 *
 *   npm run build:bench && node bench/out/bench/lsp.js [--json]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import type { PublishDiagnosticsParams } from "vscode-languageserver";
import { compile } from "../compiler/pipeline.js";
import { packageRoot } from "../core/package_root.js";
import { nodeHost } from "../compiler/resolve.js";
import { IncrementalParser } from "../lsp/parse.js";
import { generatedSpec } from "./lsp-spec.js";

const root = packageRoot();
const bin = join(root, "bin", "mmfmc.js");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

async function measure(text: string, results: Record<string, number>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mmfm-bench-lsp-"));
  try {
    await session(dir, text, results);
    inProcess(dir, text, results);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function session(dir: string, text: string, results: Record<string, number>): Promise<void> {
  writeFileSync(join(dir, "package.json"), "{}");
  const file = join(dir, "big.mmfm");
  writeFileSync(file, text);
  const uri = pathToFileURL(file).href;
  const lines = text.split("\n");

  const child = spawn(process.execPath, [bin, "lsp", "--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const waiting = new Map<number, (p: PublishDiagnosticsParams) => void>();
  connection.onNotification("textDocument/publishDiagnostics", (p: PublishDiagnosticsParams) => {
    if (p.uri === uri && p.version !== undefined) waiting.get(p.version)?.(p);
  });
  connection.listen();
  const diagnosticsOf = (version: number) => new Promise<PublishDiagnosticsParams>((r) => waiting.set(version, r));

  await connection.sendRequest("initialize", { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {}, initializationOptions: { debounceMs: 0 } });
  await connection.sendNotification("initialized", {});

  let version = 1;
  let t = performance.now();
  const opened = diagnosticsOf(version);
  await connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "mmfm", version, text } });
  const first = await opened;
  results["open: didOpen -> diagnostics, cold process (ms)"] = performance.now() - t;
  if (first.diagnostics.length) throw new Error(`the generated spec has diagnostics: ${first.diagnostics[0].message}`);

  // one value in the middle of the file, changed back and forth
  const line = lines.findIndex((l, i) => i > lines.length / 2 && l.startsWith("  lr "));
  const column = lines[line].indexOf("e-4") - 1;
  const edit = async (range: { start: { line: number; character: number }; end: { line: number; character: number } }, newText: string) => {
    version++;
    const published = diagnosticsOf(version);
    const started = performance.now();
    await connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ range, text: newText }] });
    const p = await published;
    const ms = performance.now() - started;
    const stats = (await connection.sendRequest("mmfm/stats", { uri })) as { ms: number; cpuMs: number };
    return { ms, server: stats.ms, cpu: stats.cpuMs, diagnostics: p.diagnostics.length };
  };
  const digit = (d: string) => edit({ start: { line, character: column }, end: { line, character: column + 1 } }, d);

  const warmup = 10;
  const edits: number[] = [];
  const server: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < warmup + 30; i++) {
    const r = await digit(String(1 + (i % 9)));
    if (r.diagnostics) throw new Error("a digit edit gave diagnostics");
    if (i >= warmup) {
      edits.push(r.ms);
      server.push(r.server);
      cpu.push(r.cpu);
    }
  }
  results["edit one value -> diagnostics, warm, median (ms)"] = median(edits);
  results["edit one value -> diagnostics, warm, p90 (ms)"] = p90(edits);
  results["  of which the server's check, median (ms)"] = median(server);
  results["  the check's CPU time in the server process, median (ms)"] = median(cpu);

  // a syntax error (the whole file is parsed) and its repair
  const broken: number[] = [];
  const repaired: number[] = [];
  const brokenCpu: number[] = [];
  for (let i = 0; i < 10; i++) {
    const b = await edit({ start: { line, character: 0 }, end: { line, character: 0 } }, "= ");
    if (!b.diagnostics) throw new Error("the broken edit gave no diagnostics");
    broken.push(b.ms);
    brokenCpu.push(b.cpu);
    const r = await edit({ start: { line, character: 0 }, end: { line, character: 2 } }, "");
    if (r.diagnostics) throw new Error("the repair left diagnostics");
    repaired.push(r.ms);
  }
  results["edit breaking the syntax -> diagnostics, median (ms)"] = median(broken);
  results["  the check's CPU time, median (ms)"] = median(brokenCpu);
  results["edit repairing it -> diagnostics, median (ms)"] = median(repaired);

  // hover on a model (parameter counts through the resolver) and completion of a field
  const modelLine = lines.findIndex((l, i) => i > lines.length / 2 && l.startsWith("model "));
  const hovers: number[] = [];
  const completions: number[] = [];
  for (let i = 0; i < 30; i++) {
    t = performance.now();
    const h = (await connection.sendRequest("textDocument/hover", { textDocument: { uri }, position: { line: modelLine, character: 7 } })) as { contents: { value: string } } | null;
    hovers.push(performance.now() - t);
    if (!h?.contents.value.includes("parameters")) throw new Error("the hover has no parameter counts");
    t = performance.now();
    const items = (await connection.sendRequest("textDocument/completion", { textDocument: { uri }, position: { line: line + 1, character: 2 } })) as unknown[];
    completions.push(performance.now() - t);
    if (items.length === 0) throw new Error("no completion");
  }
  results["hover on a model, median (ms)"] = median(hovers);
  results["completion of a field, median (ms)"] = median(completions);

  const stats = (await connection.sendRequest("mmfm/stats", { uri })) as { parses: { incremental: number; full: number; reused: number } };
  results["parses: incremental"] = stats.parses.incremental;
  results["parses: full"] = stats.parses.full;
  await connection.sendRequest("shutdown");
  await connection.sendNotification("exit");
  connection.dispose();
}

/** CPU time of `compile` after a one-digit edit, with the server's parser and with a full parse. */
function inProcess(dir: string, text: string, results: Record<string, number>): void {
  const file = join(dir, "big.mmfm");
  const at = text.indexOf("  lr         = 5e-4", text.length / 2) + "  lr         = ".length;
  const edited = (i: number) => text.slice(0, at) + String(1 + (i % 9)) + text.slice(at + 1);
  const parser = new IncrementalParser();
  const hosts = { incremental: { ...nodeHost(dir), parse: parser.parse.bind(parser) }, full: nodeHost(dir) };
  for (const [name, host] of Object.entries(hosts)) {
    const cpu: number[] = [];
    for (let i = 0; i < 40; i++) {
      const started = process.cpuUsage();
      compile(file, { host, text: edited(i) });
      const used = process.cpuUsage(started);
      if (i >= 10) cpu.push((used.user + used.system) / 1000);
    }
    results[`in process: check after the edit, ${name} parse, CPU median (ms)`] = median(cpu);
  }
}

const all: Record<string, Record<string, number>> = {};
for (const experiments of ["each", "one"] as const) {
  const text = generatedSpec(2000, experiments);
  const name = `${text.split("\n").length} lines, ${experiments === "each" ? "52 experiments, 208 variants" : "1 experiment, 4 variants"}`;
  const results: Record<string, number> = {};
  await measure(text, results);
  all[name] = results;
}
if (process.argv.includes("--json")) console.log(JSON.stringify(all));
else {
  for (const [name, results] of Object.entries(all)) {
    console.log(`-- ${name}`);
    for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(72)} ${Number.isInteger(v) ? v : v.toFixed(1)}`);
  }
}

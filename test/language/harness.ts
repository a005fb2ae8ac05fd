/**
 * Shared helpers of the language tests: running `mmfmc` in-process (the same `main` the binary runs),
 * reading `--json` output in the shapes of LANGUAGE.md §8, and the paths of the spec cases.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/main.js";
import { memoryOutput } from "../../cli/output.js";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const casesDir = join(repoRoot, "test", "cases", "language");

/** A case file as given on the command line: relative to the working directory, as users write it. */
export function casePath(...parts: string[]): string {
  return relative(process.cwd(), join(casesDir, ...parts));
}

/** Every `.mmfm` file under a folder, recursively, sorted. */
export function mmfmFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...mmfmFiles(path));
    else if (name.endsWith(".mmfm")) out.push(path);
  }
  return out;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `mmfmc ARGS...` in this process, without colour. */
export async function mmfmc(...args: string[]): Promise<CliResult> {
  const out = memoryOutput();
  const code = await main(args, out);
  return { code, stdout: out.stdout, stderr: out.stderr };
}

/** A diagnostic of `mmfmc check --json` (LANGUAGE.md §8; `label` is one of the keys "more keys may be added"). */
export interface JsonDiagnostic {
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly label?: string;
  readonly help?: readonly string[];
  readonly related?: readonly { file: string; line: number; column: number; message: string }[];
}

export async function checkJson(file: string, ...extra: string[]): Promise<{ code: number; diagnostics: JsonDiagnostic[]; stderr: string }> {
  const r = await mmfmc("check", file, "--json", ...extra);
  let diagnostics: JsonDiagnostic[];
  try {
    diagnostics = (JSON.parse(r.stdout) as { diagnostics: JsonDiagnostic[] }).diagnostics;
  } catch {
    throw new Error(`mmfmc check ${file} --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, diagnostics, stderr: r.stderr };
}

export interface GridStage {
  readonly name: string;
  readonly kind: string;
  readonly trainable: number;
}

export interface GridVariant {
  readonly id: string;
  readonly hash: string;
  readonly axes: Readonly<Record<string, string>>;
  readonly params: { readonly total: number; readonly vision: number; readonly connector: number; readonly language: number };
  readonly stages: readonly GridStage[];
}

export interface GridExperiment {
  readonly name: string;
  readonly variants: readonly GridVariant[];
}

/** `mmfmc grid FILE --json`: `{"experiments":[{"name","variants":[...]}]}` (LANGUAGE.md §8). */
export async function gridJson(file: string, ...extra: string[]): Promise<{ code: number; experiments: GridExperiment[]; stderr: string; stdout: string }> {
  const r = await mmfmc("grid", file, "--json", ...extra);
  let experiments: GridExperiment[] = [];
  try {
    experiments = (JSON.parse(r.stdout) as { experiments: GridExperiment[] }).experiments;
  } catch {
    if (r.code === 0) throw new Error(`mmfmc grid ${file} --json printed no JSON:\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, experiments, stderr: r.stderr, stdout: r.stdout };
}

/** The variants of one experiment by id; fails with the names present when it is missing. */
export function experimentNamed(experiments: readonly GridExperiment[], name: string): GridExperiment {
  const e = experiments.find((x) => x.name === name);
  if (!e) throw new Error(`no experiment \`${name}\` in the grid; found ${experiments.map((x) => x.name).join(", ") || "none"}`);
  return e;
}

export function byId(e: GridExperiment): Map<string, GridVariant> {
  return new Map(e.variants.map((v) => [v.id, v]));
}

/** Diagnostics in one line each, for assertion messages. */
export function showDiagnostics(ds: readonly JsonDiagnostic[]): string {
  if (ds.length === 0) return "(no diagnostics)";
  return ds
    .map((d) => `${d.severity}[${d.code}] ${d.file}:${d.line}:${d.column} ${d.message}${d.label ? ` | ${d.label}` : ""}`)
    .join("\n");
}

/** What a variant must show: its axis labels, component counts and per-stage trainable counts. */
export interface ExpectedVariant {
  readonly axes: Readonly<Record<string, string>>;
  readonly vision: number;
  readonly connector: number;
  readonly language: number;
  readonly stages: readonly (readonly [name: string, kind: "stage" | "eval", trainable: number])[];
}

/** The variant as the grid shows it, reduced to what ExpectedVariant says (total checked as the sum). */
export function shown(v: GridVariant): ExpectedVariant & { total: number } {
  return {
    axes: v.axes,
    vision: v.params.vision,
    connector: v.params.connector,
    language: v.params.language,
    total: v.params.total,
    stages: v.stages.map((s) => [s.name, s.kind as "stage" | "eval", s.trainable] as const),
  };
}

export function withTotal(e: ExpectedVariant): ExpectedVariant & { total: number } {
  return { ...e, total: e.vision + e.connector + e.language };
}

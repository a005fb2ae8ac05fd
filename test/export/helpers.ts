/** Shared by the export tests: exporting a spec in-process, writing the files, running the scripts. */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Diagnostic } from "../../core/diagnostics.js";
import { compile, exportExperiments, planExperiments, type ExportedExperiment } from "../../compiler/pipeline.js";
import { repo, tempDir } from "../helpers.js";

/**
 * Compiles `spec` (a path relative to the repository, or absolute) and exports it for `outDir`, through
 * the same code as `mmfmc export`. Vitest runs in the repository, so stamps read `examples/...`.
 */
export async function exportSpec(spec: string, outDir: string, options: { sets?: string[]; text?: string } = {}) {
  const result = compile(spec, { sets: options.sets, text: options.text });
  const compileErrors = result.diagnostics.items.filter((d) => d.severity === "error");
  if (compileErrors.length) throw new Error(`the spec does not compile: ${compileErrors.map((d) => d.message).join("; ")}`);
  const exports = exportExperiments(result, planExperiments(result, { specPath: spec, outDir }), { source: relative(process.cwd(), resolve(spec)) || spec });
  const all: Diagnostic[] = exports.flatMap((e) => e.diagnostics);
  return { exports, diagnostics: all };
}

/** Exports a spec given as text (written to a temporary folder, std imported). */
export async function exportText(text: string, sets: string[] = []) {
  const dir = tempDir("mmfm-export-");
  writeFileSync(join(dir, "package.json"), "{}");
  const spec = join(dir, "spec.mmfm");
  writeFileSync(spec, text);
  return exportSpec(spec, join(dir, "out"), { sets });
}

export function writeExport(e: ExportedExperiment, root: string): void {
  for (const f of e.files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text);
    if (f.path.endsWith(".sh") || f.path.endsWith(".sbatch")) chmodSync(path, 0o755);
  }
}

/**
 * A machine with fake `deepspeed`, `python`, `sbatch`, `hl-smi` and `nvidia-smi` on PATH, and two
 * checkouts: `llava` of LLaVA-Gemma (LLAVA_DIR by default) and `stock` of haotian-liu/LLaVA. Each call
 * of deepspeed, python or sbatch leaves its argv (NUL-separated) in `log/NNN`, so a test reads exactly
 * what bash passed. `python` stands in for the eval scripts of the checkout it runs in
 * (test/export/fake_llava.py: their file behaviour and their failures, their argument parsers);
 * `deepspeed` also notes the Gaudi recipe cache it was given, and whether that folder existed, in
 * `env.log`, and the folder it ran in in `cwd.log`; `sbatch --parsable` prints job ids from 1000.
 */
export function fakeMachine(devices: number) {
  const root = tempDir("mmfm-machine-");
  const bin = join(root, "bin");
  const log = join(root, "log");
  const llava = join(root, "LLaVA-Gemma");
  const stock = join(root, "LLaVA");
  const tmp = join(root, "tmp");
  for (const d of [bin, log, tmp]) mkdirSync(d, { recursive: true });
  for (const [checkout, codeBase] of [
    [llava, "llava-gemma"],
    [stock, "llava"],
  ]) {
    for (const d of [join(checkout, "llava", "train"), join(checkout, "scripts")]) mkdirSync(d, { recursive: true });
    writeFileSync(join(checkout, "llava", "train", "train_mem.py"), "");
    writeFileSync(join(checkout, ".mmfm-fake-code-base"), `${codeBase}\n`);
    // LLaVA's converters: its own, and copied into the fork as the README says
    for (const f of ["convert_gqa_for_eval.py", "convert_vqav2_for_submission.py"]) writeFileSync(join(checkout, "scripts", f), "");
  }
  const record = (name: string) => `n=$(ls "${log}" | wc -l)\nprintf '%s\\0' ${name} "$@" > "${log}/$(printf %03d "$n")"\n`;
  writeFileSync(
    join(bin, "deepspeed"),
    `#!/usr/bin/env bash\n${record("deepspeed")}c="\${PT_HPU_RECIPE_CACHE_CONFIG:-}"; d="\${c%%,*}"\n{ printf '%s ' "$c"; if [ -n "$d" ] && [ -d "$d" ]; then echo exists; else echo missing; fi; } >> "${root}/env.log"\npwd >> "${root}/cwd.log"\n`,
  );
  writeFileSync(join(bin, "python"), `#!/usr/bin/env bash\nexec python3 "${join(repo, "test", "export", "fake_llava.py")}" "$@"\n`);
  writeFileSync(join(bin, "sbatch"), `#!/usr/bin/env bash\n${record("sbatch")}echo $((1000 + $(ls "${log}" | wc -l)))\n`);
  const ids = Array.from({ length: devices }, (_, i) => i);
  writeFileSync(join(bin, "hl-smi"), `#!/usr/bin/env bash\necho module_id\n${ids.map((i) => `echo ${i}`).join("\n")}\n`);
  writeFileSync(join(bin, "nvidia-smi"), `#!/usr/bin/env bash\n${ids.map((i) => `echo "GPU ${i}: fake"`).join("\n")}\n`);
  for (const f of readdirSync(bin)) chmodSync(join(bin, f), 0o755);
  const env = (extra: Record<string, string> = {}) => ({
    PATH: `${bin}:${process.env.PATH}`,
    HOME: root,
    TMPDIR: tmp,
    LLAVA_DIR: llava,
    CHECKPOINTS: join(root, "checkpoints"),
    RESULTS: join(root, "results"),
    MMFM_FAKE_LOG: log,
    MMFM_FAKE_ARGS: join(repo, "test", "fixtures", "llava_eval_args.json"),
    ...extra,
  });
  return {
    root,
    llava,
    stock,
    tmp,
    run(script: string, extra: Record<string, string> = {}, args: readonly string[] = []) {
      const r = spawnSync("bash", [script, ...args], { encoding: "utf8", env: env(extra), cwd: root });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    /** every recorded call, in order, as argv arrays */
    calls(): string[][] {
      return readdirSync(log)
        .sort()
        .map((f) => readFileSync(join(log, f), "utf8").split("\0").slice(0, -1));
    },
    /** the Gaudi recipe cache of each deepspeed launch, and whether its folder existed then */
    caches(): { config: string; existed: boolean }[] {
      if (!existsSync(join(root, "env.log"))) return [];
      return readFileSync(join(root, "env.log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => ({ config: l.slice(0, l.lastIndexOf(" ")).trim(), existed: l.endsWith(" exists") }));
    },
    /** the folder each deepspeed launch ran in, in order */
    launchFolders(): string[] {
      if (!existsSync(join(root, "cwd.log"))) return [];
      return readFileSync(join(root, "cwd.log"), "utf8").trim().split("\n");
    },
  };
}

/** `--flag value` pairs of an argv (a flag without a value, like `--use_habana`, gets null). */
export function flagPairs(argv: readonly string[]): [string, string | null][] {
  const out: [string, string | null][] = [];
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith("--")) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      out.push([argv[i], next]);
      i++;
    } else out.push([argv[i], null]);
  }
  return out;
}

export { repo };

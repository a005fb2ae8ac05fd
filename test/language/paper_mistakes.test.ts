/**
 * One mistake in a complete spec: the paper's experiment of LANGUAGE.md §1 with one edit each, as a
 * user makes them. Every edit must give exit 1 (never a crash) and an error on the edited line (or the
 * next one, for a missing closing bracket) whose message or label names the offending word.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { casePath, checkJson, showDiagnostics } from "./harness.js";

interface Edit {
  /** text of the spec to replace (must occur exactly once, or `nth` picks one) */
  readonly from: string;
  readonly to: string;
  readonly nth?: number;
  readonly codes: string;
  /** the offending word; `a|b`: either */
  readonly word: string;
  /** the error may also be on the next line (a bracket left open) */
  readonly orNext?: boolean;
}

const edits: Edit[] = [
  // names and fields
  { from: "{ select_layer = -2  feature = \"patch\" }\n", to: "{ selct_layer = -2  feature = \"patch\" }\n", codes: "E0203", word: "selct_layer" },
  { from: "select_layer = -2  feature = \"patch\" }\n", to: "select_layer = -2  feature = \"patches\" }\n", codes: "E0303", word: "patches" },
  { from: "vision    = clip", to: "vision    = clipp", codes: "E0201", word: "clipp" },
  { from: "connector = mlp2x_gelu", to: "connector = mlp2x_gelo", codes: "E0201", word: "mlp2x_gelo" },
  { from: "template  = \"gemma\"", to: "template  = \"gema\"", codes: "E0303", word: "gema" },
  { from: "annotations = \"data/llava_v1_5_mix665k.json\"", to: "annotation = \"data/llava_v1_5_mix665k.json\"", codes: "E0203", word: "annotation" },
  { from: "images      = \"data\"\n", to: "images      = 42\n", codes: "E0301", word: "images" },
  { from: "data     = lcs558k", to: "data     = lcs558", codes: "E0201", word: "lcs558" },
  { from: "model  = llava_gemma\n", to: "model  = llava_gemmaa\n", codes: "E0201", word: "llava_gemmaa" },
  { from: "stages = [pretrain, finetune, benchmarks]\n  seed", to: "stages = [pretrain, finetune, benchmark]\n  seed", codes: "E0201", word: "benchmark" },
  { from: "data = [gqa, pope, mme, scienceqa_img]", to: "data = [gqa, pope, mmee, scienceqa_img]", codes: "E0201", word: "mmee" },
  { from: "vision dino = dinov2_vit_g14 ", to: "vision dino = dinov2_vit_g15 ", codes: "E0201", word: "dinov2_vit_g15" },
  { from: "stage finetune {", to: "stage pretrain {", codes: "E0202", word: "pretrain" },
  { from: "import \"std\"", to: "import \"sdt\"", codes: "E0206", word: "sdt" },
  // types, ranges and enums
  { from: "epochs   = 1\n  batch    = 256", to: "epochs   = \"1\"\n  batch    = 256", codes: "E0301", word: "epochs" },
  { from: "batch    = 256", to: "batch    = 256.0", codes: "E0301", word: "batch|256.0" },
  { from: "batch    = 256", to: "batch    = \"256\"", codes: "E0301", word: "batch" },
  { from: "batch    = 128", to: "batch    = 0", codes: "E0302", word: "batch" },
  { from: "lr       = 1e-3", to: "lr       = -1e-3", codes: "E0302", word: "lr" },
  { from: "lr       = 2e-5", to: "lr       = \"2e-5\"", codes: "E0301", word: "lr" },
  { from: "seed   = 42", to: "seed   = 4.2", codes: "E0301", word: "seed" },
  { from: "seed   = 42", to: "seed   = \"42\"", codes: "E0301", word: "seed" },
  { from: "schedule = cosine { warmup = 0.03 }\n  aspect   = \"crop\"", to: "schedule = cosin { warmup = 0.03 }\n  aspect   = \"crop\"", codes: "E0201", word: "cosin" },
  { from: "schedule = cosine { warmup = 0.03 }\n  aspect   = \"crop\"", to: "schedule = cosine { warmpu = 0.03 }\n  aspect   = \"crop\"", codes: "E0203", word: "warmpu" },
  { from: "schedule = cosine { warmup = 0.03 }\n  aspect   = \"crop\"", to: "schedule = cosine { warmup = 1.5 }\n  aspect   = \"crop\"", codes: "E0302", word: "warmup" },
  { from: "aspect   = \"crop\"", to: "aspect   = \"cropp\"", codes: "E0303", word: "cropp" },
  { from: "train    = [connector]\n", to: "train    = [conector]\n", codes: "E0201|E0303|E0314", word: "conector" },
  { from: "train    = [connector]\n", to: "train    = \"connector\"\n", codes: "E0301|E0314", word: "train" },
  { from: "train    = [connector, language]", to: "train    = [connector, language, language]", codes: "E0314", word: "language" },
  { from: "vision clip = clip_vit_l14_336 { select_layer = -2 ", to: "vision clip = clip_vit_l14_336 { select_layer = -2  image = \"336\" ", codes: "E0301", word: "image" },
  { from: "vision clip = clip_vit_l14_336 { select_layer = -2 ", to: "vision clip = clip_vit_l14_336 { select_layer = -2  depth = { a = 1 } ", codes: "E0301", word: "depth" },
  // kinds
  { from: "language  = gemma_2b_it", to: "language  = clip", codes: "E0304", word: "clip" },
  { from: "data     = lcs558k", to: "data     = clip", codes: "E0304", word: "clip" },
  { from: "data = [gqa, pope, mme, scienceqa_img]", to: "data = [gqa, pope, mme, lcs558k]", codes: "E0316|E0304", word: "lcs558k" },
  { from: "vision clip = clip_vit_l14_336 {", to: "vision clip = gemma_2b {", codes: "E0209", word: "gemma_2b" },
  // shapes
  { from: "{ select_layer = -2  feature = \"patch\" }\n", to: "{ select_layer = -30  feature = \"patch\" }\n", codes: "E0312", word: "select_layer" },
  { from: "{ select_layer = -2  feature = \"patch\" }\n", to: "{ select_layer = -2  heads = 12 }\n", codes: "E0305", word: "heads" },
  { from: "connector = mlp2x_gelu", to: "connector = mlp2x_gelu { in = 768 }", codes: "E0308", word: "`in`" },
  { from: "connector = mlp2x_gelu", to: "connector = identity", codes: "E0309", word: "identity" },
  { from: "language  = gemma_2b_it", to: "language  = gemma_2b_it { kv_heads = 3 }", codes: "E0306", word: "kv_heads" },
  // arithmetic and lexical
  { from: "batch    = 128", to: "batch    = 256 / 3", codes: "E0310", word: "256" },
  { from: "batch    = 128", to: "batch    = 128 / 0", codes: "E0310", word: "zero" },
  { from: "batch    = 128", to: "batch    = 128_", codes: "E0105", word: "128_" },
  { from: "lr       = 1e-3", to: "lr       = 1e-", codes: "E0105", word: "1e-" },
  { from: "images      = \"data\"\n", to: "images      = \"data\n", codes: "E0102", word: "unterminated" },
  { from: "images      = \"data\"\n", to: "images      = \"da\\ta\\q\"\n", codes: "E0103", word: "\\q" },
  { from: "seed   = 42", to: "seed   = 42 @", codes: "E0101", word: "@" },
  // syntax
  { from: "epochs   = 1\n  batch    = 256", to: "epochs   1\n  batch    = 256", codes: "E0106", word: "`=`" },
  { from: "lr       = 1e-3", to: "lr       == 1e-3", codes: "E0106", word: "==" },
  { from: "model llava_gemma {", to: "model model {", codes: "E0107", word: "model" },
  { from: "stages:         {", to: "stages =        {", codes: "E0106", word: "`=`|`:`" },
  { from: "train    = [connector]\n", to: "train    = [connector\n", codes: "E0106", word: "`]`", orNext: true },
  { from: "feature = \"patch\" }  // the paper's 1B DINOv2", to: "feature = \"patch\"    // the paper's 1B DINOv2", codes: "E0106", word: "`}`", orNext: true },
  // grids
  { from: "model.vision:   [clip, dino]", to: "model.visoin:   [clip, dino]", codes: "E0401", word: "visoin" },
  { from: "model.vision:   [clip, dino]", to: "model.vision:   [clip, gemma_7b_it]", codes: "E0304", word: "gemma_7b_it" },
  { from: "model.vision:   [clip, dino]", to: "model.vision:   [clip, dinoo]", codes: "E0201", word: "dinoo" },
  { from: "model.vision:   [clip, dino]", to: "model.vision:   []", codes: "E0406", word: "model.vision" },
  { from: "direct = [finetune, benchmarks]", to: "direct = [finetune, benchmark]", codes: "E0201", word: "benchmark" },
  { from: "\"7b\" = gemma_7b_it", to: "\"7b\" = gemma_7b_itt", codes: "E0201", word: "gemma_7b_itt" },
  { from: "    model.language: { \"2b\" = gemma_2b_it, \"7b\" = gemma_7b_it }\n  }\n", to: "    model.language: { \"2b\" = gemma_2b_it, \"7b\" = gemma_7b_it }\n  }\n  exclude model.vision == dinoo\n", codes: "E0201", word: "dinoo" },
  { from: "    model.language: { \"2b\" = gemma_2b_it, \"7b\" = gemma_7b_it }\n  }\n", to: "    model.language: { \"2b\" = gemma_2b_it, \"7b\" = gemma_7b_it }\n  }\n  exclude model.vison == dino\n", codes: "E0201|E0401", word: "vison" },
  { from: "    model.language: { \"2b\" = gemma_2b_it, \"7b\" = gemma_7b_it }\n  }\n", to: "    model.language: { \"2b\" = gemma_2b_it, \"7b\" = gemma_7b_it }\n  }\n  exclude seed == 42\n", codes: "E0404", word: "exclude" },
  { from: "model.vision:   [clip, dino]", to: "model.vision:   [clip, dino, clip]", codes: "E0405", word: "clip" },
];

const spec = readFileSync(casePath("valid", "paper.mmfm"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "mmfm-paper-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function apply(e: Edit): { text: string; line: number } {
  const hits: number[] = [];
  for (let i = spec.indexOf(e.from); i >= 0; i = spec.indexOf(e.from, i + 1)) hits.push(i);
  const at = hits[e.nth ?? 0];
  if (hits.length === 0 || (e.nth === undefined && hits.length > 1)) throw new Error(`\`${e.from}\` occurs ${hits.length} times in the spec`);
  // the edited line: where the edit's text first differs from the original
  let d = 0;
  while (d < e.from.length && d < e.to.length && e.from[d] === e.to[d]) d++;
  const line = spec.slice(0, at + d).split("\n").length;
  return { text: spec.slice(0, at) + e.to + spec.slice(at + e.from.length), line };
}

describe("one mistake in the paper's spec (LANGUAGE.md §1)", () => {
  edits.forEach((e, i) => {
    const { text, line } = apply(e);
    it(`${e.codes}: \`${text.split("\n")[line - 1].trim()}\``, async () => {
      const file = join(dir, `edit${i}.mmfm`);
      writeFileSync(file, text);
      const { code, diagnostics } = await checkJson(file);
      const lines = e.orNext ? [line, line + 1] : [line];
      const words = e.word.split("|");
      const hit = diagnostics.some(
        (d) => d.severity === "error" && e.codes.split("|").includes(d.code) && lines.includes(d.line) && words.some((w) => `${d.message} ${d.label ?? ""}`.includes(w)),
      );
      expect({ exit: code, found: hit }, `expected ${e.codes} on line ${lines.join(" or ")} naming ${e.word}; got\n${showDiagnostics(diagnostics)}`).toEqual({
        exit: 1,
        found: true,
      });
    });
  });
});

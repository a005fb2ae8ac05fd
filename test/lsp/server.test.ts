/**
 * The language server driven as an editor drives it: `node bin/mmfmc.js lsp --stdio` spoken to with
 * vscode-jsonrpc (client.ts), on the examples, the standard library, the spec cases and broken specs.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Diagnostic, Range } from "vscode-languageserver";
import { main } from "../../cli/main.js";
import { memoryOutput } from "../../cli/output.js";
import { formatText } from "../../compiler/format.js";
import type { JsonDiagnostic } from "../../core/render.js";
import { casesDir, mmfmFiles } from "../language/harness.js";
import { repo, tempDir } from "../helpers.js";
import { Client, find, positionAt, uri } from "./client.js";

const examples = join(repo, "examples");
const paper = join(examples, "llava-gemma.mmfm");
const std = (name: string) => join(repo, "std", name);

/** `mmfmc check FILE --json`, run in this process. */
async function check(file: string): Promise<JsonDiagnostic[]> {
  const out = memoryOutput();
  await main(["check", file, "--json"], out);
  return (JSON.parse(out.stdout) as { diagnostics: JsonDiagnostic[] }).diagnostics;
}

/** A 1-based line and code-point column of `mmfmc check` as an LSP position (0-based, UTF-16). */
function lspPosition(file: string, line: number, column: number) {
  const text = readFileSync(file, "utf8").split(/\r\n|\r|\n/)[line - 1] ?? "";
  return { line: line - 1, character: [...text].slice(0, column - 1).join("").length };
}

function key(file: string, range: Range, code: string | number | undefined, message: string): string {
  return `${uri(file)} ${range.start.line}:${range.start.character}-${range.end.line}:${range.end.character} ${code} ${message}`;
}

describe("diagnostics are those of `mmfmc check`", () => {
  let client: Client;
  beforeAll(async () => {
    client = await Client.start();
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
  });

  const files = [...mmfmFiles(examples), ...mmfmFiles(join(casesDir, "valid")), ...mmfmFiles(join(casesDir, "invalid"))];
  it(`on ${files.length} specs: codes, ranges, labels, help and related spans, in every file they concern`, async () => {
    let withErrors = 0;
    let inOtherFiles = 0;
    let related = 0;
    for (const file of files) {
      const expected = await check(relative(process.cwd(), file));
      await client.open(file);
      const own = await client.diagnostics(file);
      const concerned = new Set([file, ...expected.map((d) => resolve(d.file))]);
      const actual = new Set<string>();
      for (const f of concerned) {
        for (const d of f === file ? own : (client.latest(f) ?? [])) {
          actual.add(key(f, d.range, d.code, d.message as string));
          for (const r of d.relatedInformation ?? []) actual.add(`${key(f, d.range, d.code, d.message as string)} related ${r.location.uri} ${JSON.stringify(r.location.range)} ${r.message}`);
        }
      }
      const wanted = new Set<string>();
      for (const d of expected) {
        const f = resolve(d.file);
        const range = { start: lspPosition(f, d.line, d.column), end: lspPosition(f, d.endLine, d.endColumn) };
        const message = [d.message, ...(d.label ? [d.label] : []), ...(d.help ?? []).map((h) => `help: ${h}`)].join("\n");
        wanted.add(key(f, range, d.code, message));
        for (const r of d.related ?? []) {
          const rf = resolve(r.file);
          const rr = { start: lspPosition(rf, r.line, r.column), end: lspPosition(rf, r.endLine, r.endColumn) };
          wanted.add(`${key(f, range, d.code, message)} related ${uri(rf)} ${JSON.stringify(rr)} ${r.message}`);
          related++;
        }
        if (f !== file) inOtherFiles++;
      }
      expect([...actual].sort(), relative(repo, file)).toEqual([...wanted].sort());
      if (expected.length) withErrors++;
      await client.close(file);
      // closing the document clears what its check published
      expect(await client.cleared(file)).toEqual([]);
    }
    // the comparison covered errors, related spans, and errors inside imported files
    expect(withErrors).toBeGreaterThan(90);
    expect(related).toBeGreaterThan(10);
    expect(inOtherFiles).toBeGreaterThan(2);
  });
});

describe("editing", () => {
  let client: Client;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir("mmfm-lsp-");
    writeFileSync(join(dir, "package.json"), "{}");
    writeFileSync(
      join(dir, "parts.mmfm"),
      ['import "std"', "vision tower = clip_vit_l14_336 { select_layer = -2 }", "let steps = 2 * 50", 'dataset d = llava_json { annotations = "a.json", size = steps }', ""].join("\n"),
    );
    writeFileSync(
      join(dir, "main.mmfm"),
      [
        'import "std"',
        'import "./parts.mmfm"',
        "",
        "model m {",
        "  vision    = tower",
        "  connector = mlp2x_gelu",
        "  language  = gemma_2b_it",
        "}",
        "",
        "stage s {",
        "  data  = shapes_train",
        "  train = [connector]",
        "  steps = steps",
        "}",
        "",
        "experiment e {",
        "  model  = m",
        "  stages = [s]",
        "  ablate { s.lr: [1e-4, 2e-4] }",
        "}",
        "",
      ].join("\n"),
    );
    client = await Client.start({ root: dir });
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
  });

  it("reports what an edit breaks and clears it when repaired, per version", async () => {
    const main = join(dir, "main.mmfm");
    await client.open(main);
    expect(await client.diagnostics(main)).toEqual([]);
    await client.replace(main, "language  = gemma_2b_it", "language  = tower");
    const broken = await client.diagnostics(main);
    expect(broken.map((d) => d.code)).toEqual(["E0304"]);
    expect(broken[0].range).toEqual({ start: { line: 6, character: 14 }, end: { line: 6, character: 19 } });
    expect(broken[0].message).toBe("`language` of model `m` must be a language, found a vision `tower`\nexpected a language");
    await client.replace(main, "language  = tower", "language  = gemma_2b_it");
    expect(await client.diagnostics(main)).toEqual([]);
  });

  it("checks the documents that import an edited one, and publishes errors in the file they are in", async () => {
    const main = join(dir, "main.mmfm");
    const parts = join(dir, "parts.mmfm");
    await client.open(parts);
    expect(await client.diagnostics(parts)).toEqual([]);
    // renaming a declaration of the imported file breaks the importer
    await client.replace(parts, "vision tower", "vision towr");
    const inMain = await waitFor(() => client.latest(main)?.find((d) => d.code === "E0201"));
    expect(inMain.message).toContain("unknown name `tower`");
    expect(inMain.message).toContain("did you mean `towr`?");
    // a mistake in the imported file is published on it, by its own check and the importer's alike
    await client.replace(parts, "vision towr", "vision tower");
    await client.replace(parts, "select_layer = -2", "selct_layer = -2");
    const inParts = await client.diagnostics(parts);
    expect(inParts.map((d) => d.code)).toEqual(["E0203"]);
    expect(inParts[0].range).toEqual({ start: { line: 1, character: 34 }, end: { line: 1, character: 45 } });
    await client.close(parts);
    // closed: the importer reads it from the disk again, where it is correct
    expect(await client.cleared(parts)).toEqual([]);
    expect(await client.diagnostics(main)).toEqual([]);
  });

  it("applies a quick fix to the corrected text", async () => {
    const main = join(dir, "main.mmfm");
    await client.replace(main, "steps = steps", "stesp = steps");
    const [d] = await client.diagnostics(main);
    expect(d.message).toBe("unknown field `stesp` in stage `s`\ndid you mean `steps`?");
    const actions = await client.codeActions(main, d.range, [d]);
    expect(actions.map((a) => a.title)).toEqual(["change to `steps`"]);
    expect(actions[0].isPreferred).toBe(true);
    const edits = actions[0].edit!.changes![uri(main)];
    const fixed = await client.edit(main, edits);
    expect(fixed).toContain("  steps = steps");
    expect(await client.diagnostics(main)).toEqual([]);
  });

  it("offers a fix for a client that does not send diagnostics' data back", async () => {
    const main = join(dir, "main.mmfm");
    await client.replace(main, "connector = mlp2x_gelu", "connector = mlp2x_gelo");
    const [d] = await client.diagnostics(main);
    const { data: _dropped, ...bare } = d;
    const actions = await client.codeActions(main, d.range, [bare as Diagnostic]);
    expect(actions.map((a) => a.title)).toEqual(["change to `mlp2x_gelu`"]);
    await client.edit(main, actions[0].edit!.changes![uri(main)]);
    expect(await client.diagnostics(main)).toEqual([]);
  });

  it("goes to definitions in imported files and the standard library", async () => {
    const main = join(dir, "main.mmfm");
    const text = client.text(main);
    const tower = await client.definition(main, find(text, "= tower", 3));
    expect(tower).toEqual([{ uri: uri(join(dir, "parts.mmfm")), range: { start: { line: 1, character: 7 }, end: { line: 1, character: 12 } } }]);
    const constant = await client.hover(main, find(text, "= steps", 3));
    expect((constant!.contents as { value: string }).value).toBe("```mmfm\nlet steps = 2 * 50\n// = 100\n```");
    const steps = await client.definition(main, find(text, "= steps", 3));
    expect(steps[0].uri).toBe(uri(join(dir, "parts.mmfm")));
    expect(steps[0].range.start.line).toBe(2);
    const imp = await client.definition(main, find(text, '"./parts.mmfm"', 3));
    expect(imp.map((l) => l.uri)).toEqual([uri(join(dir, "parts.mmfm"))]);
    const stdImport = await client.definition(main, find(text, '"std"', 2));
    expect(stdImport.map((l) => l.uri).sort()).toEqual(["connectors", "datasets", "language", "tiny", "vision"].map((n) => uri(std(`${n}.mmfm`))));
    const preset = await client.definition(main, find(text, "gemma_2b_it", 2));
    const line = readFileSync(std("language.mmfm"), "utf8").split("\n")[preset[0].range.start.line];
    expect(preset[0].uri).toBe(uri(std("language.mmfm")));
    expect(line.slice(preset[0].range.start.character, preset[0].range.end.character)).toBe("gemma_2b_it");
    // an axis `s.lr` goes to the stage, then to where `lr` would be set (nowhere: it is a default)
    expect((await client.definition(main, find(text, "s.lr", 0)))[0].range.start.line).toBe(9);
  });

  it("formats as `mmfmc fmt` does, and leaves a spec with syntax errors alone", async () => {
    const messy = join(dir, "messy.mmfm");
    const text = 'import "std"\nvision   v=clip_vit{ image=224,patch = 14 ,   width=64 heads=4 depth=2 }\n';
    await client.open(messy, text);
    const edits = (await client.formatting(messy))!;
    const formatted = await client.edit(messy, edits);
    expect(formatted).toBe(formatText(text, messy).text);
    expect(formatted).not.toBe(text);
    expect(await client.formatting(messy)).toEqual([]);
    await client.edit(messy, [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, newText: "vision = \n" }]);
    expect(await client.formatting(messy)).toEqual([]);
    await client.close(messy);
  });
});

/** Polls until `get` gives a value (for diagnostics published on a file other than the edited one). */
async function waitFor<T>(get: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("hover, completion, symbols on the paper spec", () => {
  let client: Client;
  let text: string;
  beforeAll(async () => {
    client = await Client.start();
    await client.open(paper);
    await client.diagnostics(paper);
    text = client.text(paper);
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
  });

  const hoverText = async (needle: string, shift = 0, file = paper, source = text) => {
    const h = await client.hover(file, find(source, needle, shift));
    return h ? (h.contents as { value: string }).value : "";
  };

  it("hovers a model with its exact parameter counts, as `mmfmc grid` gives them", async () => {
    const out = memoryOutput();
    await main(["grid", paper, "--json"], out);
    const grid = JSON.parse(out.stdout) as { experiments: { variants: { id: string; params: Record<string, number> }[] }[] };
    const variant = grid.experiments[0].variants.find((v) => v.id.endsWith("pretrained-clip-2b"))!;
    const h = await hoverText("model llava_gemma", 8);
    const n = (x: number) => x.toLocaleString("en-US");
    expect(h).toContain(`${n(variant.params.total)} (2.82B) parameters`);
    expect(h).toContain(`vision ${n(variant.params.vision)}`);
    expect(h).toContain(`connector ${n(variant.params.connector)}`);
    expect(h).toContain(`language ${n(variant.params.language)}`);
    expect(h).toContain("576 image tokens per image");
  });

  it("hovers a backbone with its family, resolved fields, defaults and counts", async () => {
    const h = await hoverText("vision dino", 8);
    expect(h).toContain("**vision `dino`** · family `dinov2` · based on `dinov2_vit_g14` (std/vision.mmfm)");
    // the paper's DINOv2 ViT-g/14 (reference: 1,136,480,768 parameters), at 224 px: 16 x 16 patches
    expect(h).toContain("1,136,480,768 (1.14B) parameters · 256 image tokens per image");
    expect(h).toMatch(/ffn += "swiglu" +\/\/ from dinov2_vit_g14/);
    expect(h).toMatch(/layer_scale += 1(\.0)? +\/\/ default/);
    expect(h).toContain("select_layer   = -2\n");
    // a preset from the standard library, hovered where it is used
    expect(await hoverText("= gemma_2b_it", 3)).toContain("2,506,172,416 (2.51B) parameters");
  });

  it("hovers a field with its documentation, a family, an axis with its variants", async () => {
    const field = await hoverText("micro_batch ", 2);
    expect(field).toContain("**`micro_batch`** · field of a stage");
    expect(field).toContain("`int` · default: batch\n\nsamples per forward pass; gradients are accumulated to `batch`\n\nhere: `16`, set in `pretrain` (examples/llava-gemma.mmfm)");
    const family = await hoverText("= llava_json", 3);
    expect(family).toContain("**llava_json** · dataset family");
    expect(family).toContain("| `annotations` | `string` | required |");
    const axis = await hoverText("model.language:", 8);
    expect(axis).toContain("**axis `model.language`** of experiment `llava_gemma_ablations` · 2 values");
    expect(axis).toContain('"2b" = gemma_2b_it');
    expect(axis).toContain("labels: `2b`, `7b`");
    expect(axis).toContain("8 variants of `llava_gemma_ablations`");
    const experiment = await hoverText("experiment llava_gemma_ablations", 12);
    expect(experiment).toContain("8 variants over `stages`, `model.vision`, `model.language`");
  });

  it("completes the fields of the block's family with their types, leaving out those set", async () => {
    const items = await client.completion(paper, find(text, "  // on the cluster: LLaVA-Gemma's scripts/v1_5/pretrain", 0));
    const labels = items.map((i) => i.label);
    expect(labels).toContain("weight_decay");
    expect(labels).toContain("max_length");
    expect(labels).not.toContain("lr");
    expect(labels).not.toContain("micro_batch");
    const decay = items.find((i) => i.label === "weight_decay")!;
    expect(decay.detail).toBe("float · default: 0");
    expect((decay.textEdit as { newText: string }).newText).toBe("weight_decay = ");
  });

  it("completes values by the field's type: declarations of the kind, presets, families, enum values", async () => {
    const at = async (edit: string, where: string) => {
      const changed = await client.replace(paper, where, where + edit);
      const offset = changed.indexOf(where + edit) + where.length + edit.length;
      const items = await client.completion(paper, positionAt(changed, offset));
      await client.replace(paper, where + edit, where);
      return items.map((i) => i.label);
    };
    const connectors = await at("\n  connector = ", "  language  = gemma_2b_it");
    expect(connectors).toEqual(expect.arrayContaining(["mlp2x_gelu", "linear_proj", "mlp", "identity", "linear"]));
    expect(connectors).not.toContain("clip");
    expect(connectors).not.toContain("gemma_2b_it");
    const visions = await at("\nvision other = ", 'images = "data" }');
    expect(visions).toEqual(expect.arrayContaining(["clip", "dino", "clip_vit_l14_336", "siglip_so400m_p14_384", "clip_vit", "dinov2", "siglip"]));
    expect(visions).not.toContain("gemma");
    const feature = await at(" act = ", "vision clip = clip_vit_l14_336 { select_layer = -2, feature = \"patch\"");
    expect(feature).toEqual(['"quick_gelu"', '"gelu"', '"gelu_tanh"']);
    const train = await at("\n  train = [language, ", "  lr       = 2e-5");
    expect(train).toEqual(["vision", "connector", "language"]);
    const stages = await at(" stages = [", "  seed   = 42\n");
    expect(stages).toEqual(expect.arrayContaining(["pretrain", "finetune", "benchmarks"]));
    expect(stages).not.toContain("lcs558k");
    const warmup = await at(" ", "  schedule = cosine {");
    expect(warmup).toEqual(["warmup"]);
  });

  it("completes ablate paths into the experiment", async () => {
    const at = async (typed: string) => {
      const where = "    model.vision:   [clip, dino]\n";
      const changed = await client.replace(paper, where, where + "    " + typed);
      const offset = changed.indexOf(where) + where.length + 4 + typed.length;
      const items = await client.completion(paper, positionAt(changed, offset));
      await client.replace(paper, where + "    " + typed, where);
      return items.map((i) => i.label);
    };
    const top = await at("");
    expect(top).toEqual(expect.arrayContaining(["seed", "stages", "model.vision", "model.connector", "pretrain", "finetune", "lcs558k"]));
    expect(await at("model.")).toEqual(["vision", "connector", "language", "template", "image_token"]);
    expect(await at("model.connector.")).toEqual(["depth", "act", "in", "out"]);
    expect(await at("finetune.")).toEqual(expect.arrayContaining(["lr", "batch", "schedule"]));
  });

  it("offers std presets with `import \"std\"` added where it is missing", async () => {
    const bare = join(examples, "no-std.mmfm");
    await client.open(bare, "model m {\n  vision = \n}\n");
    const items = await client.completion(bare, { line: 1, character: 11 });
    const preset = items.find((i) => i.label === "clip_vit_l14_336")!;
    expect(preset.additionalTextEdits).toEqual([{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: 'import "std"\n' }]);
    expect(items.find((i) => i.label === "clip_vit")!.additionalTextEdits).toBeUndefined();
    await client.close(bare);
  });

  it("lists the declarations with their fields and axes as symbols", async () => {
    const symbols = await client.symbols(paper);
    expect(symbols.map((s) => `${s.name}: ${s.detail ?? ""}`)).toEqual([
      'import "std": ',
      "clip: vision = clip_vit_l14_336",
      "dino: vision = dinov2_vit_g14",
      "llava_gemma: model",
      "lcs558k: dataset = llava_json",
      "mix665k: dataset = llava_json",
      "pretrain: stage",
      "finetune: stage",
      "benchmarks: eval",
      "llava_gemma_ablations: experiment",
    ]);
    const experiment = symbols[symbols.length - 1];
    const ablate = experiment.children!.find((c) => c.name === "ablate")!;
    expect(ablate.children!.map((c) => c.name)).toEqual(["stages", "model.vision", "model.language"]);
    expect(symbols[3].children!.map((c) => c.name)).toEqual(["vision", "connector", "language", "template"]);
  });

  it("reads the standard library's own files", async () => {
    const file = std("vision.mmfm");
    await client.open(file);
    expect(await client.diagnostics(file)).toEqual([]);
    const source = client.text(file);
    expect(await hoverText("vision clip_vit_l14 =", 8, file, source)).toContain("303,179,776 (303.2M) parameters");
    const base = await client.definition(file, find(source, "= clip_vit_l14_336 {", 3));
    expect(base[0]).toEqual({ uri: uri(file), range: { start: { line: 5, character: 7 }, end: { line: 5, character: 23 } } });
    await client.close(file);
  });
});


describe("the debounce", () => {
  it("holds back the check of an edit, but not of an opened document nor of a request", async () => {
    const client = await Client.start({ debounceMs: 60_000 });
    const file = join(examples, "debounced.mmfm");
    await client.open(file, "vision v = clip_vit { width = 64, heads = 4, depth = 2 }\n");
    expect(await client.diagnostics(file)).toEqual([]);
    await client.replace(file, "width = 64", "width = 96");
    // no diagnostics for version 2 yet (the debounce is a minute), but hover sees the edit at once
    const hover = await client.hover(file, find(client.text(file), "vision v", 7));
    expect((hover!.contents as { value: string }).value).toMatch(/width += 96\n/);
    expect(client.latest(file)).toEqual([]);
    expect(client.published.filter((p) => p.uri === uri(file)).map((p) => p.version)).toEqual([1]);
    expect(await client.stop()).toBe(0);
  });
});

describe("the server process", () => {
  it("exits 0 after shutdown and exit, and 1 when the client goes away without shutdown", async () => {
    const client = await Client.start();
    expect(await client.stop()).toBe(0);
    const gone = await Client.start();
    const exited = new Promise<number | null>((r) => gone.child.on("exit", (code) => r(code)));
    gone.child.stdin!.end();
    expect(await exited).toBe(1);
  });

});

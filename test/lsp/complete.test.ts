/**
 * Completion on specs being typed (mostly not parsing), in process: where the cursor is (`|`) decides
 * what is offered. The server tests (server.test.ts) cover the same over stdio on the paper spec.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { complete } from "../../lsp/complete.js";
import type { Analysis } from "../../lsp/workspace.js";
import { repo } from "../helpers.js";

const path = join(repo, "examples", "typing.mmfm");

function labels(spec: string): string[] {
  const offset = spec.indexOf("|");
  const text = spec.replace("|", "");
  const compilation = compile(path, { text });
  const analysis: Analysis = {
    uri: "file:///typing.mmfm",
    path,
    version: 1,
    compilation,
    file: compilation.program.entry.files[0],
    module: compilation.program.entry,
    reads: new Set(),
    ms: 0,
    cpuMs: 0,
  };
  return complete(analysis, text, offset, { showPath: (p) => p, stdBindings: () => undefined }).map((i) => i.label);
}

describe("completion while typing", () => {
  it("offers the keywords where an item starts, also after a finished `let`", () => {
    const keywords = ["import", "let", "vision", "connector", "language", "dataset", "stage", "eval", "model", "experiment"];
    expect(labels("|")).toEqual(keywords);
    expect(labels('import "std"\nvision v = clip_vit { depth = 2 }\n|')).toEqual(keywords);
    expect(labels("let a = 1\nlet b = a\n|")).toEqual(keywords);
  });

  it("offers imports: std and the specs beside the file", () => {
    const offered = labels("import |");
    expect(offered[0]).toBe('"std"');
    expect(offered).toContain('"./llava-gemma.mmfm"');
    expect(labels('import "|')).toContain('"std"');
  });

  it("offers a base of the declaration's kind, not the declaration itself", () => {
    const bases = labels('import "std"\nvision v = |');
    expect(bases).toEqual(expect.arrayContaining(["clip_vit", "dinov2", "siglip", "clip_vit_l14_336", "tiny_clip_vit"]));
    expect(bases).not.toContain("v");
    expect(bases).not.toContain("gemma");
    expect(bases).not.toContain("mlp2x_gelu");
  });

  it("tells a field name from a value, with or without separators", () => {
    const fields = labels('import "std"\nvision v = clip_vit { image = 224 |');
    expect(fields).toContain("patch");
    expect(fields).not.toContain("image");
    expect(labels('import "std"\nvision v = clip_vit { image = 224, |')).toContain("patch");
    expect(labels('import "std"\nvision v = clip_vit { image = | }')).toEqual([]);
    expect(labels('import "std"\nvision v = clip_vit { aspect = | }')).toEqual(['"crop"', '"pad"']);
    expect(labels('import "std"\nvision v = clip_vit { feature = "pa|" }')).toEqual(['"patch"', '"cls_patch"']);
    expect(labels("stage s { group_by_modality = | }")).toEqual(["true", "false"]);
  });

  it("reads a refinement's family from the field it is assigned to", () => {
    expect(labels('import "std"\nmodel m { vision = tiny_clip_vit  connector = linear { | } }')).toEqual(["in", "out"]);
    expect(labels('import "std"\nstage s { data = shapes_train, schedule = linear { | } }')).toEqual(["warmup"]);
    expect(labels('import "std"\nstage s { data = shapes_train, schedule = | }')).toEqual(["constant", "cosine", "linear"]);
  });

  it("offers the fields of a declaration after `NAME.`", () => {
    const offered = labels('import "std"\nvision v = clip_vit { image = 224 }\nlet w = v.|');
    expect(offered.slice(0, 3)).toEqual(["image", "patch", "width"]);
  });

  it("offers axes in `ablate` and `exclude`, and nothing in comments", () => {
    const spec = (tail: string) =>
      `import "std"\nstage s { data = shapes_train, train = [connector] }\nmodel m { vision = tiny_clip_vit  connector = mlp2x_gelu  language = tiny_gemma_2b }\nexperiment e {\n  model = m\n  stages = [s]\n  ablate { model.vision: [tiny_clip_vit, tiny_siglip] }\n${tail}`;
    expect(labels(spec("  ablate { s.| }"))).toEqual(expect.arrayContaining(["lr", "batch", "train"]));
    expect(labels(spec("  ablate { model.connector.| }"))).toEqual(["depth", "act", "in", "out"]);
    const exclude = labels(spec("  exclude |"));
    expect(exclude[0]).toBe("model.vision");
    expect(labels(spec("  // a comment |"))).toEqual([]);
    expect(labels(spec("  /* a | comment */"))).toEqual([]);
  });
});

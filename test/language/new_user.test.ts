/**
 * The rough edges a new user hit (issue 13, item 3), each held by a test: labels that cannot name a
 * folder, messages about `train`, quoted numbers, `micro_batch`, `--only`, and the warnings of the
 * memory check said once per cause.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { variantFolder } from "../../plan/names.js";
import { casePath, checkJson, experimentNamed, gridJson } from "./harness.js";

const errors = (result: ReturnType<typeof compile>) => result.diagnostics.items.filter((d) => d.severity === "error");

describe("labels are folder names that never start with `-` (LANGUAGE.md §6)", () => {
  it("`ablate zip` rows may share the label `neg1` when their ids differ", async () => {
    const { code, experiments, stderr } = await gridJson(casePath("valid", "grid_zip_repeated_labels.mmfm"));
    expect(code, stderr).toBe(0);
    const ids = experimentNamed(experiments, "layers").variants.map((v) => v.id);
    expect(ids).toEqual(["layers/neg1-clip336", "layers/neg2-clip336b", "layers/neg1-clip224"]);
    for (const id of ids) expect(variantFolder(id)).toMatch(/^[A-Za-z0-9_]/);
  });

  it("a written label `\"-1\"` is E0408 whose fix `neg1` removes the error", () => {
    const file = casePath("invalid", "grid_label_minus.mmfm");
    const result = compile(file);
    const [first, second] = result.diagnostics.items;
    expect([first.code, second.code]).toEqual(["E0408", "E0408"]);
    expect(first.help).toContain("spell the sign: `neg1` (as the label derived from a negative number is)");
    const text = first.span!.file.text;
    expect(text.slice(first.span!.start, first.span!.end)).toBe('"-1"');
    expect(first.fixes).toEqual([{ span: first.span, text: "neg1" }]);
    expect(second.fixes?.map((f) => f.text)).toEqual(["neg2x"]);
    let fixed = text;
    for (const d of [second, first]) fixed = fixed.slice(0, d.fixes![0].span.start) + d.fixes![0].text + fixed.slice(d.fixes![0].span.end);
    const after = compile(file, { text: fixed });
    expect(after.diagnostics.items.filter((d) => d.severity === "error")).toEqual([]);
    expect(after.experiments[0].variants.map((v) => v.id)).toEqual(["e/neg1", "e/neg2x"]);
  });

  it("two zip rows with the same labels on every axis are E0405 naming the rows", async () => {
    const { code, diagnostics } = await checkJson(casePath("invalid", "grid_zip_same_row.mmfm"));
    expect(code).toBe(1);
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([["E0405", "rows 1 and 3 of `ablate zip` have the same labels `neg1-1`"]]);
  });
});

describe("mistakes in `train` say what `train` takes", () => {
  it("`train = connector` is one error whose fix `[connector]` removes it", () => {
    const file = casePath("invalid", "field_train_alone.mmfm");
    const [d, ...rest] = errors(compile(file));
    expect(rest).toEqual([]);
    expect([d.code, d.message, d.label, d.help]).toEqual(["E0301", "`train` takes a list of components, found `connector` alone", "expected a list", ["write `train = [connector]`"]]);
    const text = d.span!.file.text;
    const fix = d.fixes![0];
    const fixed = text.slice(0, fix.span.start) + fix.text + text.slice(fix.span.end);
    expect(fixed).toContain("train = [connector]");
    expect(errors(compile(file, { text: fixed }))).toEqual([]);
  });

  it("`[conector]`, `[projector, llm]` and `[vision, foo]` list the components and suggest the nearest", () => {
    const file = casePath("invalid", "field_train_alone.mmfm");
    const text = compile(file).diagnostics.items[0].span!.file.text;
    const check = (train: string) => errors(compile(file, { text: text.replace("  train = connector", `  train = ${train}`) }));
    const components = "`train` lists the components the stage updates: `vision`, `connector` or `language`";
    for (const [train, guesses] of [
      ["[conector]", ["connector"]],
      ["[projector, llm]", ["connector", "language"]],
      ["[vision, foo]", [undefined]],
    ] as const) {
      const ds = check(train);
      expect(ds.map((d) => d.code), train).toEqual(guesses.map(() => "E0303"));
      expect(ds.map((d) => d.help), train).toEqual(guesses.map(() => [components]));
      expect(ds.map((d) => d.fixes?.[0]?.text), train).toEqual(guesses);
    }
  });
});

describe("quoted numbers, `micro_batch` and `--only` say what would work", () => {
  it("`batch = \"128\"` and `lr = \"1e-3\"` get a help line and the fix without quotes; a float in quotes for an integer does not", () => {
    const file = casePath("invalid", "field_quoted_numbers.mmfm");
    const ds = errors(compile(file));
    expect(ds.map((d) => d.help)).toEqual([["a number in quotes is a string: write `128` without the quotes"], ["a number in quotes is a string: write `1e-3` without the quotes"]]);
    const text = ds[0].span!.file.text;
    let fixed = text;
    for (const d of [...ds].reverse()) fixed = fixed.slice(0, d.fixes![0].span.start) + d.fixes![0].text + fixed.slice(d.fixes![0].span.end);
    expect(fixed).toContain('  batch = 128\n  lr    = 1e-3\n');
    expect(errors(compile(file, { text: fixed }))).toEqual([]);
    const float = errors(compile(file, { text: text.replace('"128"', '"1e-3"') }));
    expect(float[0].message).toBe('`batch` of stage `s` must be an integer, found a string `"1e-3"`');
    expect(float[0].help).toEqual([]);
    expect(float[0].fixes).toBeUndefined();
  });

  it("E0315 lists the `micro_batch` values that divide the batch", () => {
    const file = casePath("invalid", "field_quoted_numbers.mmfm");
    const text = compile(file).diagnostics.items[0].span!.file.text;
    const [d] = errors(compile(file, { text: text.replace('"128"', "96").replace('"1e-3"', "1e-3  micro_batch = 5") }));
    expect(d.code).toBe("E0315");
    expect(d.help).toContain("`micro_batch` values that divide 96: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96");
  });

  it("`--only` with a label no variant has lists the labels of that axis and the nearest", async () => {
    const { code, diagnostics } = await checkJson("examples/llava-gemma.mmfm", "--only", "model.vision=clipp", "--only", "stages=pretrained");
    expect(code).toBe(1);
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([["E0502", "no variant matches --only model.vision=clipp --only stages=pretrained"]]);
    expect(diagnostics[0].help).toEqual([
      "`model.vision` has the labels `clip` and `dino`; did you mean `model.vision=clip`?",
      "`stages` has the labels `pretrained` and `direct`",
      "`mmfmc grid FILE` lists the variants and their labels",
    ]);
  });
});

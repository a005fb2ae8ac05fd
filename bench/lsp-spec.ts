/**
 * A generated spec of exactly `lines` lines for the language server's benchmark and tests: groups of
 * a vision backbone, a language backbone, a model and a stage, every declaration on its own lines as
 * people write them, and experiments with a 2 x 2 grid: one per group (`experiments: "each"`, 200
 * variants in 2,000 lines) or one for the whole file (`"one"`, 4 variants).
 */
export function generatedSpec(lines: number, experiments: "each" | "one" = "each"): string {
  const out = ["// generated for the language server benchmark", 'import "std"', ""];
  const experiment = (i: number) => [
    `experiment e${i} {`,
    `  model  = m${i}`,
    `  stages = [s${i}]`,
    `  seed   = ${i}`,
    "  ablate {",
    `    s${i}.lr:                [1e-4, 2e-4]`,
    "    model.connector.depth: [1, 2]",
    "  }",
    "}",
    "",
  ];
  const group = (i: number) => [
    `// group ${i}`,
    `vision v${i} = clip_vit {`,
    "  image        = 224",
    "  patch        = 14",
    `  width        = ${256 + 64 * (i % 4)}`,
    "  depth        = 4",
    "  heads        = 8",
    "  select_layer = -2",
    "}",
    "",
    `language l${i} = tiny_gemma_2b { depth = ${2 + (i % 3)} }`,
    "",
    `model m${i} {`,
    `  vision    = v${i}`,
    "  connector = mlp2x_gelu",
    `  language  = l${i}`,
    "}",
    "",
    `stage s${i} {`,
    "  data       = shapes_train",
    "  train      = [connector, language]",
    "  epochs     = 1",
    "  batch      = 16",
    `  lr         = ${(i % 9) + 1}e-4`,
    "  schedule   = cosine { warmup = 0.03 }",
    "  max_length = 512",
    "}",
    "",
    ...(experiments === "each" ? experiment(i) : []),
  ];
  let i = 0;
  const last = experiments === "one" ? experiment(0) : [];
  for (; out.length + group(i).length + last.length <= lines; i++) out.push(...group(i));
  out.push(...last);
  while (out.length < lines) out.push("// (padding to the requested length)");
  return out.join("\n");
}

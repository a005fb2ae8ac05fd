/**
 * `mmfmc doc` for the std presets (issue 13): a preset's fields resolved, its exact parameters and
 * image tokens (against the published counts), its Hugging Face id; `--presets` lists every
 * declaration of std; the same resolution the language server's hover shows.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mmfmc, repoRoot } from "./harness.js";
import { languagePresets, visionPresets } from "./reference.js";

/** Every declaration std writes, by kind, in file order. */
function stdDeclarations(): { kind: string; name: string }[] {
  const dir = join(repoRoot, "std");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".mmfm"))
    .sort()
    .flatMap((f) => [...readFileSync(join(dir, f), "utf8").matchAll(/^(vision|connector|language|dataset|stage|eval|model) (\w+)/gm)].map((m) => ({ kind: m[1], name: m[2] })));
}

describe("mmfmc doc PRESET", () => {
  it("prints clip_vit_l14_336 resolved: its fields with defaults, exact parameters, image tokens, Hugging Face id", async () => {
    const r = await mmfmc("doc", "clip_vit_l14_336");
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("clip_vit_l14_336 (vision preset in std/vision.mmfm, family `clip_vit`)");
    expect(lines).toContain("Hugging Face: openai/clip-vit-large-patch14-336");
    expect(lines).toContain(`${visionPresets.clip_vit_l14_336.params.toLocaleString("en-US")} (303.5M) parameters · ${visionPresets.clip_vit_l14_336.tokens} image tokens per image`);
    // set in std, defaulted by the family, computed from another field
    expect(lines).toContain("  width        = 1024");
    expect(lines).toContain("  select_layer = -2  // default");
    expect(lines).toContain("  resize       = 336  // default: image");
    expect(lines).toContain("  weights      = none");
  });

  it("gives every backbone preset its published count, and clip_vit_l14 the fields it inherits", async () => {
    for (const [name, p] of Object.entries({ ...visionPresets, ...languagePresets })) {
      const r = await mmfmc("doc", name);
      expect(r.stdout, name).toContain(`${p.params.toLocaleString("en-US")} (`);
    }
    const r = await mmfmc("doc", "clip_vit_l14");
    expect(r.stdout.split("\n")[0]).toBe("clip_vit_l14 (vision preset in std/vision.mmfm, family `clip_vit`, based on `clip_vit_l14_336`)");
    expect(r.stdout).toContain("  width        = 1024  // from clip_vit_l14_336");
    expect(r.stdout).toContain("  image        = 224\n");
  });

  it("shows both the family and the preset for a name that is both (`gqa`)", async () => {
    const r = await mmfmc("doc", "gqa");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("gqa (dataset family)");
    expect(r.stdout).toContain("gqa (dataset preset in std/datasets.mmfm, family `gqa`)");
  });

  it("suggests the nearest family or preset for an unknown name (exit 2)", async () => {
    const r = await mmfmc("doc", "gemma_2b_i");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown family or preset `gemma_2b_i`; did you mean `gemma_2b_it`?");
  });

  it("--json gives the preset's resolved fields and counts", async () => {
    const r = await mmfmc("doc", "gemma_7b_it", "--json");
    const [p] = JSON.parse(r.stdout);
    expect(p).toMatchObject({ name: "gemma_7b_it", kind: "language", preset: true, family: "gemma", file: "std/language.mmfm", hub_id: "google/gemma-7b-it", params: languagePresets.gemma_7b_it.params });
    expect(p.fields).toMatchObject({ width: 3072, depth: 28, heads: 16, kv_heads: 16, head_dim: 256 });
  });
});

describe("mmfmc doc --presets", () => {
  it("lists every declaration of std under its kind, with checkpoints", async () => {
    const r = await mmfmc("doc", "--presets");
    expect(r.code, r.stderr).toBe(0);
    const listed = new Map<string, string>();
    let kind = "";
    for (const line of r.stdout.split("\n").slice(1)) {
      if (/^\w+$/.test(line)) kind = line;
      else if (line.startsWith("  ")) listed.set(line.trim().split(/\s+/)[0], kind);
    }
    const declared = stdDeclarations();
    expect(declared.length).toBeGreaterThan(25);
    expect(new Map(declared.map((d) => [d.name, d.kind]))).toEqual(listed);
    expect(r.stdout).toMatch(/^ {2}siglip_so400m_p14_384 +siglip +428\.2M params +google\/siglip-so400m-patch14-384$/m);
    const json = JSON.parse((await mmfmc("doc", "--presets", "--json")).stdout) as { name: string }[];
    expect(json.map((p) => p.name).sort()).toEqual(declared.map((d) => d.name).sort());
  });
});

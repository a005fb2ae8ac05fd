// `mmfmc score BENCHMARK ITEMS.json [--json]` through the CLI's main(): output streams, exit
// statuses, and errors that name the file, the item and the field.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { memoryOutput } from "../../cli/output.js";

const vectors = join(dirname(fileURLToPath(import.meta.url)), "vectors");
const tmp = mkdtempSync(join(tmpdir(), "mmfm-score-"));

function writeItems(name: string, content: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

async function run(...argv: string[]) {
  const out = memoryOutput();
  const code = await main(["score", ...argv], out);
  return { code, stdout: out.stdout, stderr: out.stderr };
}

describe("mmfmc score", () => {
  it("prints exactly the scores object with --json", async () => {
    const r = await run("pope", join(vectors, "pope.items.json"), "--json");
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(Object.keys(printed)).toEqual(["benchmark", "notes", "expected"]);
    expect(printed.benchmark).toBe("pope");
    expect(typeof printed.notes).toBe("string");
    const expected = JSON.parse(readFileSync(join(vectors, "pope.expected.json"), "utf8")).expected;
    expect(printed.expected).toEqual(expected);
    expect(r.stderr).toContain("scored 24 pope items");
  });

  it("prints the rounded VQA numbers as Python prints them", async () => {
    const r = await run("vqav2", join(vectors, "vqav2.items.json"), "--json");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"tie": 53.13');
  });

  it("prints a table of the headline numbers without --json", async () => {
    const r = await run("scienceqa_img", join(vectors, "scienceqa_img.items.json"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/IMG\s+42\.86\s+9\s+21/);
    expect(r.stdout).toMatch(/all\s+37\.04\s+10\s+27/);
    const mme = await run("mme", join(vectors, "mme.items.json"));
    expect(mme.stdout).toMatch(/Perception\s+375\.00/);
    expect(mme.stdout).toMatch(/Cognition\s+300\.00/);
  });

  it("accepts the dataset family name `scienceqa` for scienceqa_img", async () => {
    const r = await run("scienceqa", join(vectors, "scienceqa_img.items.json"), "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).benchmark).toBe("scienceqa_img");
  });

  it("is a usage error (exit 2) without arguments or with an unknown benchmark", async () => {
    expect((await run()).code).toBe(2);
    const r = await run("vqa3", "x.json");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown benchmark `vqa3`");
    expect(r.stdout).toBe("");
  });

  it("names the file when it cannot be read or is not JSON (exit 1)", async () => {
    const missing = join(tmp, "nope.json");
    const r = await run("gqa", missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${missing}: cannot read the items file (no such file)`);
    const broken = writeItems("broken.json", '{"items": [');
    const b = await run("gqa", broken);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`${broken}: field \`(file)\`: not valid JSON`);
    expect(b.stdout).toBe("");
  });

  it("names the file, the item index and the field of a malformed item (exit 1)", async () => {
    const good = { question_id: "1", question: "Is it?", answer: "yes", structural: "verify", semantic: "attr", prediction: "yes" };
    const file = writeItems("bad-gqa.json", { benchmark: "gqa", description: "", items: [good, { ...good, question_id: "2", prediction: 3 }] });
    const r = await run("gqa", file, "--json");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: item 1, field \`prediction\`: expected a string, got the number 3`);
    expect(r.stdout).toBe("");
    const vqa = writeItems("bad-vqa.json", {
      benchmark: "vqav2",
      items: [{ question_id: 1, question_type: "what", answer_type: "other", answers: ["a", 2], prediction: "a" }],
    });
    const v = await run("vqav2", vqa);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain("item 0, field `answers[1]`: expected a string, got the number 2");
  });

  it("warns when the file declares another benchmark, and scores as asked", async () => {
    const items = JSON.parse(readFileSync(join(vectors, "gqa.items.json"), "utf8"));
    const file = writeItems("declared.json", { ...items, benchmark: "pope" });
    const r = await run("gqa", file);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("the file says benchmark `pope`; scoring it as `gqa`");
  });
});

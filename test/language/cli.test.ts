/**
 * Exit statuses of the spec commands (LANGUAGE.md §8): 0 success (warnings allowed), 1 the input has
 * errors, 2 bad usage, never 70 for any input; `--json` output is JSON on stdout even with errors.
 */
import { describe, expect, it } from "vitest";
import { casePath, mmfmc } from "./harness.js";

describe("mmfmc check and grid exit statuses", () => {
  it("0 for a valid spec, 1 for errors, 0 for warnings only", async () => {
    expect((await mmfmc("check", casePath("valid", "paper.mmfm"))).code).toBe(0);
    expect((await mmfmc("grid", casePath("valid", "paper.mmfm"))).code).toBe(0);
    expect((await mmfmc("check", casePath("invalid", "field_twice.mmfm"))).code).toBe(1);
    expect((await mmfmc("grid", casePath("invalid", "field_twice.mmfm"))).code).toBe(1);
    expect((await mmfmc("check", casePath("invalid", "grid_exclude_nothing.mmfm"))).code).toBe(0);
  });

  it("2 for bad usage: no file, a missing file, an unknown option", async () => {
    expect((await mmfmc("check")).code).toBe(2);
    expect((await mmfmc("check", casePath("valid", "no_such_file.mmfm"))).code).toBe(2);
    expect((await mmfmc("check", casePath("valid", "paper.mmfm"), "--frobnicate")).code).toBe(2);
  });

  it("--help on check and grid", async () => {
    for (const command of ["check", "grid"]) {
      const r = await mmfmc(command, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`mmfmc ${command}`);
    }
  });

  it("grid --json prints JSON on stdout even when the spec has errors", async () => {
    const r = await mmfmc("grid", casePath("invalid", "field_twice.mmfm"), "--json");
    expect(r.code).toBe(1);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});

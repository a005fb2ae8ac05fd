/**
 * The house of docs/architecture.md, held against the code: every import of every source file runs
 * to its own room or down to a lower floor, never up and never across between the compiler's and the
 * runtime's wings, and no files import each other in a circle. A new top-level folder or runtime room
 * must be given its floor here (and in docs/architecture.md) before it can hold code.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repo } from "../helpers.js";

/** Rooms by floor, bottom up, as docs/architecture.md draws them. */
const floors: readonly (readonly string[])[] = [
  ["core"],
  ["plan", "grammar"],
  ["compiler", "runtime/tf.ts", "runtime/graph.ts"],
  ["runtime/backend", "runtime/weights", "runtime/data", "runtime/benchmarks"],
  ["runtime/models", "runtime/train"],
  ["runtime/run"],
  ["runtime/index.ts"],
  ["lsp"],
  ["cli"],
];

/** The two wings above the ground floors: neither imports the other (they meet in plan/ and cli/). */
const wings: Readonly<Record<string, string>> = { grammar: "compiler", compiler: "compiler" };
const wingOf = (room: string) => wings[room] ?? (room.startsWith("runtime/") ? "runtime" : undefined);

const floorOf = new Map<string, number>(floors.flatMap((rooms, i) => rooms.map((r) => [r, i] as const)));

const sourceRoots = ["core", "plan", "grammar", "compiler", "runtime", "cli", "lsp"];

function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repo, dir))) {
      const path = join(dir, entry);
      if (statSync(join(repo, path)).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) out.push(path.split("\\").join("/"));
    }
  };
  for (const root of sourceRoots) {
    try {
      walk(root);
    } catch {
      // a root that does not exist (yet) holds nothing
    }
  }
  return out;
}

/** The room of a file: its top-level folder, or for the runtime its folder or file directly inside. */
function roomOf(file: string): string {
  const parts = file.split("/");
  return parts[0] === "runtime" ? `runtime/${parts[1]}` : parts[0];
}

/** Relative imports of a file (static, re-exports and dynamic `import("...")`), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(repo, file), "utf8");
  const out: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of text.matchAll(pattern)) {
    const target = normalize(join(dirname(file), m[1])).split("\\").join("/");
    out.push(target.replace(/\.js$/, ".ts"));
  }
  return out;
}

describe("the layers of the house", () => {
  const files = sources();
  const edges = files.map((f) => ({ file: f, imports: importsOf(f) }));

  it("has every room on a floor", () => {
    const unplaced = [...new Set(files.map(roomOf))].filter((r) => !floorOf.has(r));
    expect(unplaced, "give these rooms a floor in this test and in docs/architecture.md").toEqual([]);
  });

  it("has no import that runs up a floor or across the wings", () => {
    const wrong: string[] = [];
    for (const { file, imports } of edges) {
      const from = roomOf(file);
      for (const target of imports) {
        if (target.startsWith("node_modules") || target.startsWith("..")) {
          wrong.push(`${file} -> ${target} (outside the sources)`);
          continue;
        }
        const to = roomOf(target);
        if (to === from) continue;
        const up = (floorOf.get(to) ?? Infinity) >= (floorOf.get(from) ?? -Infinity);
        const across = wingOf(from) !== undefined && wingOf(to) !== undefined && wingOf(from) !== wingOf(to);
        if (up || across) wrong.push(`${file} (${from}) -> ${target} (${to})${across ? " across the wings" : " up a floor"}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("has no files that import each other in a circle", () => {
    const graph = new Map(edges.map((e) => [e.file, e.imports.filter((t) => files.includes(t))]));
    const state = new Map<string, "open" | "done">();
    const circles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        circles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const f of files) visit(f, []);
    expect(circles).toEqual([]);
  });

  it("keeps the benchmarks out of the shipped build", () => {
    const build = JSON.parse(readFileSync(join(repo, "tsconfig.build.json"), "utf8")) as { include: string[] };
    expect(build.include).not.toContain("bench");
    expect(relative(repo, join(repo, "bench"))).toBe("bench");
  });
});

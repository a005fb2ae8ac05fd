/**
 * Importing the generated graph modules: `mmfmc run` executes what `mmfmc build` wrote. Each
 * graph.ts is transpiled in memory (TypeScript from ts-morph) with `mmfm/runtime` pointing at this
 * package's graph API, and imported as a module.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { GraphModule } from "../runtime/graph.js";

export async function importGraphModule(path: string): Promise<GraphModule> {
  return importGraphSource(readFileSync(path, "utf8"), path);
}

/**
 * The module of a graph.ts text (`path` names it in messages). `mmfmc run` imports the text it has
 * just written, not the file read back: another command writing the same build folder meanwhile
 * cannot swap the module a run executes.
 */
export async function importGraphSource(source: string, path: string): Promise<GraphModule> {
  const { ts } = await import("ts-morph");
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: path,
  }).outputText;
  const api = pathToFileURL(join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "runtime", "graph.js")).href;
  const linked = js.replace(/from\s+"mmfm\/runtime"/g, `from ${JSON.stringify(api)}`);
  const url = `data:text/javascript;base64,${Buffer.from(linked).toString("base64")}`;
  return (await import(url)) as GraphModule;
}

/**
 * Resolve: the entry file and its imports -> modules with scopes. Reports unreadable imports, cycles,
 * imports that escape the project root, and names declared twice (locally or through imports).
 *
 * `import "std"` brings the standard library: every `.mmfm` file of the package's `std/` folder, which
 * together form one module. Other imports are paths relative to the importing file. An import brings
 * the names declared in that file, not the names it imports itself.
 *
 * An import is followed to its real file (symbolic links resolved) before it is checked against the
 * project root, and a module is known by that real path. A file that is not a spec (binary, or an
 * imported file that does not begin like one) is named, never quoted: its lines are not shown.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, extname, join, relative, resolve as resolvePath, sep } from "node:path";
import { beginsLikeSpec, parseSource } from "../grammar/index.js";
import type * as A from "../grammar/ast.js";
import { Diagnostics } from "../core/diagnostics.js";
import { L, M } from "../core/messages.js";
import { packageRoot } from "../core/package_root.js";
import { SourceFile, type Span } from "../core/source.js";

export type Binding =
  | { readonly kind: "decl"; readonly node: A.Decl; readonly module: Module }
  | { readonly kind: "let"; readonly node: A.Let; readonly module: Module };

export interface Module {
  /** absolute path of the file, or `std` for the standard library */
  readonly id: string;
  readonly files: readonly A.File[];
  /** every name visible in this module: its own and those of its imports */
  readonly scope: Map<string, Binding>;
  /** names declared in the module itself (what an import of it brings) */
  readonly own: Map<string, Binding>;
  readonly isStd: boolean;
}

export interface Program {
  readonly entry: Module;
  /** every module, imports before importers */
  readonly modules: readonly Module[];
}

/** How files are read (tests and the language server can substitute their own). */
export interface Host {
  /** the file's text; throws an error with code `ERR_ENCODING_INVALID_ENCODED_DATA` when it is not UTF-8 */
  readFile(path: string): string;
  isFile(path: string): boolean;
  /** the path of an existing file with every symbolic link resolved; absent: paths are real as they are */
  realPath?(path: string): string;
  /** the `.mmfm` files of the standard library, absolute paths in name order */
  stdFiles(): string[];
  /** how a path is shown in diagnostics */
  displayPath(path: string): string;
  /**
   * Text -> tree, when the host parses itself (the language server reuses the trees of unchanged
   * files and declarations); it reports into `diagnostics` exactly what `parseSource` would.
   */
  parse?(source: SourceFile, diagnostics: Diagnostics): A.File;
}

export function nodeHost(cwd: string = process.cwd()): Host {
  return {
    readFile: (path) => utf8.decode(readFileSync(path)),
    isFile: (path) => existsSync(path) && statSync(path).isFile(),
    realPath: (path) => realpathSync.native(path),
    stdFiles: () => {
      const dir = join(packageRoot(), "std");
      return readdirSync(dir)
        .filter((f) => f.endsWith(".mmfm"))
        .sort()
        .map((f) => join(dir, f));
    },
    displayPath: (path) => {
      const rel = relative(cwd, path);
      return rel && !rel.startsWith("..") ? rel : path;
    },
  };
}

/** Strict UTF-8 (a binary file is refused, not decoded into replacement characters); a BOM is kept, as whitespace. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Parsed standard library files are kept across compilations in one process (they never change). */
const stdCache = new Map<string, A.File>();

/** The nearest folder at or above the file's folder holding `mmfm.json` or `package.json`. */
export function projectRoot(file: string, host: Host): string {
  const start = dirname(file);
  let dir = start;
  for (;;) {
    if (host.isFile(join(dir, "mmfm.json")) || host.isFile(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
}

export function loadProgram(entryPath: string, host: Host, diagnostics: Diagnostics, entryText?: string): Program {
  const modules: Module[] = [];
  const byId = new Map<string, Module>();
  const inProgress: string[] = [];

  /** The file's syntax tree; undefined for an imported file that is not a spec (reported at `importSpan`). */
  const parseFile = (path: string, text: string, cached: boolean, importSpan?: Span): A.File | undefined => {
    if (cached) {
      const hit = stdCache.get(path);
      if (hit) return hit;
    }
    const local = new Diagnostics();
    const source = new SourceFile(host.displayPath(path), text, path);
    const file = host.parse ? host.parse(source, local) : parseSource(source, local);
    if (importSpan && local.items.some((d) => d.code.startsWith("E01")) && !beginsLikeSpec(text)) {
      diagnostics.report(M.notASpec, { path: host.displayPath(path), binary: false }, { span: importSpan });
      return undefined;
    }
    for (const d of local.items) diagnostics.add(d);
    if (cached && !local.hasErrors) stdCache.set(path, file);
    return file;
  };

  const loadStd = (): Module => {
    const existing = byId.get("std");
    if (existing) return existing;
    const files = host.stdFiles().map((p) => parseFile(p, host.readFile(p), true)!);
    const module = makeModule("std", files, true);
    // the standard library's files see each other's names
    for (const [name, b] of module.own) module.scope.set(name, b);
    byId.set("std", module);
    modules.push(module);
    return module;
  };

  const makeModule = (id: string, files: A.File[], isStd: boolean): Module => {
    const own = new Map<string, Binding>();
    const module: Module = { id, files, scope: new Map(), own, isStd };
    for (const file of files) {
      for (const item of file.items) {
        if (item.kind === "Import") continue;
        const binding: Binding = item.kind === "Decl" ? { kind: "decl", node: item, module } : { kind: "let", node: item, module };
        const previous = own.get(item.name.text);
        if (previous) {
          duplicate(item.name.text, item.name.span, bindingSpan(previous), diagnostics);
          continue;
        }
        own.set(item.name.text, binding);
      }
    }
    return module;
  };

  const loadFile = (path: string, text: string | undefined, importSpan?: Span): Module | undefined => {
    if (inProgress.includes(path)) {
      const cycle = [...inProgress.slice(inProgress.indexOf(path)), path].map((p) => host.displayPath(p));
      diagnostics.report(M.importCycle, { cycle }, { span: importSpan });
      return undefined;
    }
    const existing = byId.get(path);
    if (existing) return existing;
    let source: string;
    try {
      source = text ?? host.readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ERR_ENCODING_INVALID_ENCODED_DATA") {
        diagnostics.report(M.notASpec, { path: host.displayPath(path), binary: true }, { span: importSpan });
        return undefined;
      }
      const unreadable = { path: host.displayPath(path), reason: code === "ENOENT" ? undefined : (error as Error).message };
      if (importSpan) diagnostics.report(M.cannotReadImport, unreadable, { span: importSpan });
      else diagnostics.report(M.cannotReadInput, unreadable);
      return undefined;
    }
    if (source.includes("\u0000")) {
      diagnostics.report(M.notASpec, { path: host.displayPath(path), binary: true }, { span: importSpan });
      return undefined;
    }
    const file = parseFile(path, source, false, importSpan);
    if (!file) return undefined;
    inProgress.push(path);
    const module = makeModule(path, [file], false);
    byId.set(path, module);
    const root = realPathOf(host, projectRoot(path, host));
    // names brought by each import, with where they were imported
    const imported = new Map<string, { binding: Binding; via: Span }>();
    for (const item of file.items) {
      if (item.kind !== "Import") continue;
      const target = importTarget(item, path, root, host, diagnostics);
      if (target === undefined) continue;
      const dep = target === "std" ? loadStd() : loadFile(target, undefined, item.path.span);
      if (!dep) continue;
      for (const [name, binding] of dep.own) {
        const local = module.own.get(name);
        const other = imported.get(name);
        if (local) {
          duplicate(name, bindingSpan(local), bindingSpan(binding), diagnostics, item.path.span);
        } else if (other && other.binding !== binding) {
          duplicate(name, item.path.span, bindingSpan(other.binding), diagnostics, undefined, bindingSpan(binding));
        } else if (!other) {
          imported.set(name, { binding, via: item.path.span });
        }
      }
    }
    for (const [name, { binding }] of imported) module.scope.set(name, binding);
    for (const [name, binding] of module.own) module.scope.set(name, binding);
    inProgress.pop();
    modules.push(module);
    return module;
  };

  const entryAbs = resolvePath(entryPath);
  const entry = loadFile(entryAbs, entryText) ?? makeModule(entryAbs, [], false);
  if (!modules.includes(entry)) modules.push(entry);
  return { entry, modules };
}

function importTarget(item: A.Import, from: string, root: string, host: Host, diagnostics: Diagnostics): string | "std" | undefined {
  const spec = item.path.value;
  if (spec === "std") return "std";
  if (spec === "") {
    diagnostics.report(M.emptyImport, {}, { span: item.path.span });
    return undefined;
  }
  let target = resolvePath(dirname(from), spec);
  if (!host.isFile(target) && extname(target) !== ".mmfm" && host.isFile(target + ".mmfm")) target += ".mmfm";
  const exists = host.isFile(target);
  // a symbolic link is checked where it leads: a link inside the project to /etc/shadow is outside it
  const real = exists ? realPathOf(host, target) : target;
  const inside = real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  if (!inside) {
    diagnostics.report(M.importOutsideRoot, { spec, resolved: host.displayPath(real), root: host.displayPath(root) }, { span: item.path.span });
    return undefined;
  }
  if (!exists) {
    diagnostics.report(M.importNotFound, { spec, resolved: host.displayPath(target) }, { span: item.path.span });
    return undefined;
  }
  return real;
}

/** The real path of an existing file or folder (links resolved), or the path itself when the host cannot tell. */
function realPathOf(host: Host, path: string): string {
  if (!host.realPath) return path;
  try {
    return host.realPath(path);
  } catch {
    return path;
  }
}

export function bindingSpan(b: Binding): Span {
  return b.node.name.span;
}

function duplicate(name: string, at: Span, first: Span, diagnostics: Diagnostics, via?: Span, also?: Span): void {
  const secondary = [{ span: first, text: L.firstDeclaredHere(name) }];
  if (also) secondary.push({ span: also, text: L.declaredAgainToo });
  if (via) secondary.push({ span: via, text: L.importedHere });
  diagnostics.report(M.declaredTwice, { name }, { span: at, secondary });
}

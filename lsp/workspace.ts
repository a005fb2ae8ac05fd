/**
 * The server's view of the files: the open documents (their text in memory), a compiler Host that
 * reads them before the disk, and one analysis (a compilation) per open document, as `mmfmc check`
 * would make of it.
 *
 * After an edit only what it can change is checked again: the edited document and the open
 * documents that import it (directly or not); their parser keeps the trees of unchanged files and
 * reparses only the edited declarations (parse.ts). Checks run after a short quiet period (the
 * debounce), or at once when a request needs the latest analysis. Diagnostics are published per
 * file: the union of what every open document's check found in it (an error in an imported file is
 * shown in that file), and a file that no longer has any is cleared.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Diagnostic as LspDiagnostic, TextDocuments } from "vscode-languageserver";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type * as A from "../grammar/ast.js";
import { compile, type Compilation } from "../compiler/pipeline.js";
import { nodeHost, type Binding, type Host, type Module } from "../compiler/resolve.js";
import { fileUri, lspDiagnostic, pathOfUri } from "./convert.js";
import { IncrementalParser } from "./parse.js";

export interface Analysis {
  readonly uri: string;
  /** the absolute path the document is checked as */
  readonly path: string;
  readonly version: number;
  readonly compilation: Compilation;
  /** the document's tree and module in the program (undefined when the document could not be read) */
  readonly file?: A.File;
  readonly module?: Module;
  /** every path the check read or looked for (imports, found or not) */
  readonly reads: ReadonlySet<string>;
  /** milliseconds the check took, and the process's CPU time in them (a busy machine inflates the first) */
  readonly ms: number;
  readonly cpuMs: number;
}

export interface WorkspaceOptions {
  /** the folder paths are shown relative to (the editor's workspace folder) */
  readonly root: string;
  /** milliseconds of quiet after an edit before checking (requests never wait for it) */
  readonly debounceMs: number;
  publish(uri: string, diagnostics: LspDiagnostic[], version: number | undefined): void;
  /** an internal error of the compiler, for the editor's log */
  log(message: string): void;
}

/** The name of the in-memory entry that checks the standard library's files (`import "std"`). */
const stdEntryName = "<std>.mmfm";

export class Workspace {
  readonly parser = new IncrementalParser();
  readonly host: Host;
  readonly stdDir: string;
  private readonly analyses = new Map<string, Analysis>();
  private readonly dirty = new Set<string>();
  private readonly published = new Map<string, string>();
  private readonly pathByUri = new Map<string, string>();
  private readonly uriByPath = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  /** whether the pending timer is a check due at once */
  private immediate = false;
  private reads: Set<string> | undefined;
  private std: ReadonlyMap<string, Binding> | undefined;
  /** analyses changed (checked, or a document closed) since diagnostics were last published */
  private unpublished = false;

  constructor(
    private readonly documents: TextDocuments<TextDocument>,
    private readonly options: WorkspaceOptions,
  ) {
    const disk = nodeHost(options.root);
    const files = disk.stdFiles();
    this.stdDir = files.length ? dirname(files[0]) : "";
    this.host = {
      readFile: (path) => {
        this.reads?.add(path);
        const open = this.openDocument(path);
        return open ? open.getText() : readFileSync(path, "utf8");
      },
      isFile: (path) => {
        this.reads?.add(path);
        return this.uriByPath.has(path) || (existsSync(path) && statSync(path).isFile());
      },
      stdFiles: () => files,
      displayPath: disk.displayPath,
      parse: (source, diagnostics) => this.parser.parse(source, diagnostics),
    };
  }

  /** The path a document is checked as: its file, or a name in the workspace folder for an unsaved one. */
  pathOf(uri: string): string {
    let path = this.pathByUri.get(uri);
    if (!path) {
      path = pathOfUri(uri) ?? join(this.options.root, basename(uri.replace(/^[a-z-]+:/i, "")).replace(/(\.mmfm)?$/, ".mmfm"));
      path = resolve(path);
    }
    return path;
  }

  /** The URI to publish a file's diagnostics under: the open document's own, else a `file:` URI. */
  uriOf = (path: string): string => this.uriByPath.get(path) ?? fileUri(path);

  private openDocument(path: string): TextDocument | undefined {
    const uri = this.uriByPath.get(path);
    return uri ? this.documents.get(uri) : undefined;
  }

  isStd(path: string): boolean {
    return this.stdDir !== "" && path.startsWith(this.stdDir + sep);
  }

  opened(uri: string): void {
    const path = this.pathOf(uri);
    this.pathByUri.set(uri, path);
    this.uriByPath.set(path, uri);
    this.invalidate(path);
    this.schedule(0);
  }

  changed(uri: string): void {
    this.invalidate(this.pathOf(uri));
    this.schedule(this.options.debounceMs);
  }

  closed(uri: string): void {
    const path = this.pathOf(uri);
    this.analyses.delete(uri);
    this.dirty.delete(uri);
    this.pathByUri.delete(uri);
    this.uriByPath.delete(path);
    // the open documents that import it read it from the disk again
    this.invalidate(path);
    if (![...this.analyses.values()].some((a) => a.reads.has(path))) this.parser.forget(path);
    this.unpublished = true;
    this.schedule(0);
  }

  /** Files changed on disk (the editor's file watcher): every open document is checked again. */
  filesChanged(): void {
    for (const uri of this.pathByUri.keys()) this.dirty.add(uri);
    this.schedule(this.options.debounceMs);
  }

  /** Marks the document at `path` and every open document that read it as needing a check. */
  private invalidate(path: string): void {
    for (const [uri, p] of this.pathByUri) {
      if (p === path || this.analyses.get(uri)?.reads.has(path)) this.dirty.add(uri);
    }
    if (this.isStd(path)) for (const uri of this.pathByUri.keys()) this.dirty.add(uri);
  }

  /**
   * Checks after `delay` ms; each edit postpones the check (the debounce), except that a check due at
   * once (a document opened or closed) is not postponed: it checks whatever is stale by then.
   */
  private schedule(delay: number): void {
    if (this.timer && this.immediate) return;
    if (this.timer) clearTimeout(this.timer);
    this.immediate = delay === 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
  }

  /** Checks every document that needs it now and publishes what changed. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (const uri of [...this.dirty]) this.check(uri);
    if (this.unpublished) this.publish();
    this.unpublished = false;
  }

  /** The up-to-date analysis of an open document (checked now if an edit made it stale). */
  analysis(uri: string): Analysis | undefined {
    if (!this.pathByUri.has(uri)) return undefined;
    if (this.dirty.has(uri) || !this.analyses.has(uri)) {
      this.check(uri);
      // what the request needed is checked; a pending debounce publishes it with the others
      if (!this.timer) this.schedule(0);
    }
    return this.analyses.get(uri);
  }

  private check(uri: string): void {
    this.dirty.delete(uri);
    const document = this.documents.get(uri);
    if (!document) return;
    const path = this.pathOf(uri);
    const std = this.isStd(path);
    this.reads = new Set([path]);
    const started = performance.now();
    const cpu = process.cpuUsage();
    let compilation: Compilation;
    try {
      compilation = std
        ? compile(join(this.stdDir, stdEntryName), { host: this.host, text: 'import "std"\n' })
        : compile(path, { host: this.host, text: document.getText() });
    } catch (error) {
      this.options.log(`mmfmc: internal error while checking ${path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      this.reads = undefined;
      return;
    }
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    const reads = this.reads;
    this.reads = undefined;
    const module = std ? compilation.program.modules.find((m) => m.isStd) : compilation.program.entry;
    const file = module?.files.find((f) => f.source.absolutePath === path);
    this.analyses.set(uri, { uri, path, version: document.version, compilation, file, module, reads, ms, cpuMs });
    this.unpublished = true;
  }

  /** Publishes, per file, the union of the diagnostics every analysis found there. */
  private publish(): void {
    const byUri = new Map<string, Map<string, LspDiagnostic>>();
    const add = (uri: string, d: LspDiagnostic) => {
      let map = byUri.get(uri);
      if (!map) byUri.set(uri, (map = new Map()));
      map.set(JSON.stringify([d.code, d.range, d.message]), d);
    };
    for (const analysis of this.analyses.values()) {
      const std = this.isStd(analysis.path);
      const fallback = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
      for (const d of analysis.compilation.diagnostics.sorted()) {
        const path = d.span?.file.absolutePath;
        // the standard library's own check reports only about its files
        if (std && (!path || !this.isStd(path))) continue;
        const uri = path ? this.uriOf(path) : analysis.uri;
        add(uri, lspDiagnostic(d, this.uriOf, fallback));
      }
    }
    for (const uri of new Set([...this.published.keys(), ...byUri.keys(), ...this.analyses.keys()])) {
      const list = [...(byUri.get(uri)?.values() ?? [])];
      const version = this.documents.get(uri)?.version;
      // an open document hears after every check of a new version, even when nothing changed
      const key = JSON.stringify([version, list]);
      if (this.published.get(uri) === key) continue;
      if (list.length === 0 && version === undefined) this.published.delete(uri);
      else this.published.set(uri, key);
      this.options.publish(uri, list, version);
    }
  }

  /** The standard library's declarations (offered by completion where `import "std"` is missing). */
  stdBindings(): ReadonlyMap<string, Binding> | undefined {
    if (!this.std) {
      const compilation = compile(join(this.stdDir, stdEntryName), { host: this.host, text: 'import "std"\n', grid: false });
      this.std = compilation.program.modules.find((m) => m.isStd)?.own;
    }
    return this.std;
  }

  /** For the benchmark and tests: the last check of a document and the parser's counters. */
  stats(uri: string): { ms: number | undefined; cpuMs: number | undefined; parses: IncrementalParser["stats"] } {
    const a = this.analyses.get(uri);
    return { ms: a?.ms, cpuMs: a?.cpuMs, parses: { ...this.parser.stats } };
  }
}

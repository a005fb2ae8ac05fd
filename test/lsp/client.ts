/**
 * A language client for the tests: `node bin/mmfmc.js lsp --stdio` in a child process, spoken to
 * through vscode-jsonrpc's message connection over the child's stdin and stdout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node";
import type {
  CodeAction,
  CompletionItem,
  CompletionList,
  Diagnostic,
  DocumentSymbol,
  Hover,
  InitializeResult,
  Location,
  Position,
  PublishDiagnosticsParams,
  Range,
  TextEdit,
} from "vscode-languageserver";
import { repo } from "../helpers.js";

export const uri = (path: string) => pathToFileURL(path).href;

export class Client {
  readonly published: PublishDiagnosticsParams[] = [];
  private readonly waiters: { accept(p: PublishDiagnosticsParams): boolean }[] = [];
  private readonly versions = new Map<string, number>();
  private readonly texts = new Map<string, string>();
  readonly stderr: string[] = [];
  initialized!: InitializeResult;

  private constructor(
    readonly child: ChildProcess,
    readonly connection: MessageConnection,
  ) {
    connection.onNotification("textDocument/publishDiagnostics", (p: PublishDiagnosticsParams) => {
      this.published.push(p);
      for (let i = this.waiters.length - 1; i >= 0; i--) if (this.waiters[i].accept(p)) this.waiters.splice(i, 1);
    });
    connection.onNotification("window/logMessage", (p: { message: string }) => {
      this.stderr.push(p.message);
    });
    child.stderr!.on("data", (d: Buffer) => this.stderr.push(d.toString()));
  }

  static async start(options: { root?: string; debounceMs?: number } = {}): Promise<Client> {
    const child = spawn(process.execPath, [join(repo, "bin", "mmfmc.js"), "lsp", "--stdio"], { cwd: options.root ?? repo, stdio: ["pipe", "pipe", "pipe"] });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
    const client = new Client(child, connection);
    client.initialized = await connection.sendRequest("initialize", {
      processId: process.pid,
      rootUri: uri(options.root ?? repo),
      capabilities: { textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true } } },
      initializationOptions: { debounceMs: options.debounceMs ?? 20 },
    });
    await connection.sendNotification("initialized", {});
    return client;
  }

  /** The next diagnostics for `file` of the document's current version (or the latest, for a file not open). */
  diagnostics(file: string, timeoutMs = 20_000): Promise<Diagnostic[]> {
    const target = uri(file);
    const version = this.versions.get(target);
    const fits = (p: PublishDiagnosticsParams) => p.uri === target && (version === undefined || p.version === version);
    const latest = [...this.published].reverse().find((p) => p.uri === target);
    if (latest && fits(latest)) return Promise.resolve(latest.diagnostics);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${file} (version ${version}) in ${timeoutMs} ms; stderr: ${this.stderr.join("")}`)), timeoutMs);
      this.waiters.push({
        accept: (p) => {
          if (!fits(p)) return false;
          clearTimeout(timer);
          resolve(p.diagnostics);
          return true;
        },
      });
    });
  }

  /** Waits until a file that is not open has no diagnostics published (after a close). */
  async cleared(file: string, timeoutMs = 20_000): Promise<Diagnostic[]> {
    const until = Date.now() + timeoutMs;
    while ((this.latest(file)?.length ?? 0) > 0) {
      if (Date.now() > until) throw new Error(`diagnostics of ${file} never cleared`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.latest(file) ?? [];
  }

  /** The latest diagnostics published for a file (after `diagnostics` of another file settled). */
  latest(file: string): Diagnostic[] | undefined {
    return [...this.published].reverse().find((p) => p.uri === uri(file))?.diagnostics;
  }

  async open(file: string, text = readFileSync(file, "utf8")): Promise<void> {
    this.versions.set(uri(file), 1);
    this.texts.set(uri(file), text);
    await this.connection.sendNotification("textDocument/didOpen", { textDocument: { uri: uri(file), languageId: "mmfm", version: 1, text } });
  }

  text(file: string): string {
    return this.texts.get(uri(file))!;
  }

  /** Applies edits to the client's copy and sends them as incremental changes. */
  async edit(file: string, edits: readonly TextEdit[]): Promise<string> {
    const target = uri(file);
    const version = (this.versions.get(target) ?? 0) + 1;
    this.versions.set(target, version);
    let text = this.texts.get(target)!;
    // later edits first, so earlier offsets stay valid
    const sorted = [...edits].sort((a, b) => offsetAt(text, b.range.start) - offsetAt(text, a.range.start));
    for (const e of sorted) text = text.slice(0, offsetAt(text, e.range.start)) + e.newText + text.slice(offsetAt(text, e.range.end));
    this.texts.set(target, text);
    await this.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri: target, version },
      contentChanges: sorted.map((e) => ({ range: e.range, text: e.newText })),
    });
    return text;
  }

  /** Replaces the first occurrence of `from` with `to`. */
  replace(file: string, from: string, to: string): Promise<string> {
    const text = this.text(file);
    const at = text.indexOf(from);
    if (at < 0) throw new Error(`\`${from}\` not in ${file}`);
    return this.edit(file, [{ range: { start: positionAt(text, at), end: positionAt(text, at + from.length) }, newText: to }]);
  }

  async close(file: string): Promise<void> {
    this.versions.delete(uri(file));
    await this.connection.sendNotification("textDocument/didClose", { textDocument: { uri: uri(file) } });
  }

  hover(file: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest("textDocument/hover", { textDocument: { uri: uri(file) }, position });
  }

  async completion(file: string, position: Position): Promise<CompletionItem[]> {
    const r: CompletionItem[] | CompletionList | null = await this.connection.sendRequest("textDocument/completion", { textDocument: { uri: uri(file) }, position });
    return r === null ? [] : Array.isArray(r) ? r : r.items;
  }

  definition(file: string, position: Position): Promise<Location[]> {
    return this.connection.sendRequest("textDocument/definition", { textDocument: { uri: uri(file) }, position });
  }

  symbols(file: string): Promise<DocumentSymbol[]> {
    return this.connection.sendRequest("textDocument/documentSymbol", { textDocument: { uri: uri(file) } });
  }

  formatting(file: string): Promise<TextEdit[] | null> {
    return this.connection.sendRequest("textDocument/formatting", { textDocument: { uri: uri(file) }, options: { tabSize: 2, insertSpaces: true } });
  }

  codeActions(file: string, range: Range, diagnostics: Diagnostic[]): Promise<CodeAction[]> {
    return this.connection.sendRequest("textDocument/codeAction", { textDocument: { uri: uri(file) }, range, context: { diagnostics } });
  }

  /** Shuts the server down as an editor does; resolves with its exit code. */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.child.on("exit", (code) => resolve(code)));
    await this.connection.sendRequest("shutdown");
    await this.connection.sendNotification("exit");
    const code = await exited;
    this.connection.dispose();
    return code;
  }
}

export function offsetAt(text: string, p: Position): number {
  let line = 0;
  let i = 0;
  while (line < p.line) {
    const n = text.indexOf("\n", i);
    if (n < 0) return text.length;
    i = n + 1;
    line++;
  }
  return Math.min(i + p.character, text.length);
}

export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split("\n").length - 1;
  return { line, character: offset - (before.lastIndexOf("\n") + 1) };
}

/** The position of the `nth` occurrence of `needle` in `text`, `shift` code units into it. */
export function find(text: string, needle: string, shift = 0, nth = 0): Position {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`\`${needle}\` not found`);
  }
  return positionAt(text, at + shift);
}

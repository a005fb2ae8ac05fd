/**
 * The VS Code extension folder: its manifest names the grammar and language configuration that
 * exist, and its client (extension.js, loaded with stand-ins for the `vscode` API and the
 * vscode-languageclient library, which only VS Code provides) starts `mmfmc lsp` over stdio for
 * `.mmfm` documents, choosing the server command as documented.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repo, tempDir } from "../helpers.js";

const folder = join(repo, "editors", "vscode");
const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));

describe("the VS Code extension", () => {
  it("contributes the language, its grammar and its configuration", () => {
    const [language] = manifest.contributes.languages;
    expect(language).toMatchObject({ id: "mmfm", extensions: [".mmfm"] });
    const configuration = JSON.parse(readFileSync(join(folder, language.configuration), "utf8"));
    expect(configuration.comments).toEqual({ lineComment: "//", blockComment: ["/*", "*/"] });
    expect(configuration.brackets).toEqual([["{", "}"], ["[", "]"], ["(", ")"]]);
    const [grammar] = manifest.contributes.grammars;
    expect(grammar.language).toBe("mmfm");
    expect(JSON.parse(readFileSync(join(folder, grammar.path), "utf8")).scopeName).toBe(grammar.scopeName);
    expect(manifest.main).toBe("./extension.js");
    expect(Object.keys(manifest.dependencies)).toEqual(["vscode-languageclient"]);
  });

  interface Started {
    command: string;
    args: string[];
    transport: unknown;
    selector: unknown[];
    initializationOptions: unknown;
  }

  const load = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = load._load;
  afterEach(() => {
    load._load = original;
  });

  /** Activates extension.js with stand-ins; returns what it started and the errors it showed. */
  async function activate(options: { folder?: string; settings?: Record<string, unknown>; startFails?: boolean }) {
    const started: Started[] = [];
    const errors: string[] = [];
    const stdio = Symbol("stdio");
    const vscode = {
      workspace: {
        getConfiguration: () => ({ get: (key: string) => options.settings?.[key] }),
        workspaceFolders: options.folder ? [{ uri: { fsPath: options.folder } }] : undefined,
        createFileSystemWatcher: (glob: string) => ({ glob }),
      },
      window: { showErrorMessage: (m: string) => errors.push(m) },
    };
    class LanguageClient {
      constructor(_id: string, _name: string, server: { run: { command: string; args: string[]; transport: unknown } }, client: { documentSelector: unknown[]; initializationOptions: unknown }) {
        started.push({ command: server.run.command, args: server.run.args, transport: server.run.transport, selector: client.documentSelector, initializationOptions: client.initializationOptions });
      }
      start() {
        return options.startFails ? Promise.reject(new Error("spawn mmfmc ENOENT")) : Promise.resolve();
      }
      stop() {
        return Promise.resolve();
      }
    }
    load._load = function (request: string, ...rest: unknown[]) {
      if (request === "vscode") return vscode;
      if (request === "vscode-languageclient/node") return { LanguageClient, TransportKind: { stdio } };
      return original.call(this, request, ...rest);
    };
    const path = join(folder, "extension.js");
    const require = createRequire(import.meta.url);
    delete require.cache[require.resolve(path)];
    const extension = require(path) as { activate(context: { subscriptions: unknown[] }): Promise<void> };
    await extension.activate({ subscriptions: [] });
    return { started, errors, stdio };
  }

  it("starts `mmfmc lsp` over stdio for mmfm documents, from the PATH by default", async () => {
    const { started, errors, stdio } = await activate({ settings: { "server.debounceMs": 300 } });
    expect(errors).toEqual([]);
    expect(started).toEqual([
      {
        command: "mmfmc",
        args: ["lsp"],
        transport: stdio,
        selector: [
          { scheme: "file", language: "mmfm" },
          { scheme: "untitled", language: "mmfm" },
        ],
        initializationOptions: { debounceMs: 300 },
      },
    ]);
  });

  it("prefers the workspace's own mmfmc, and a configured command over both", async () => {
    const workspace = tempDir("mmfm-vscode-");
    mkdirSync(join(workspace, "node_modules", ".bin"), { recursive: true });
    const local = join(workspace, "node_modules", ".bin", process.platform === "win32" ? "mmfmc.cmd" : "mmfmc");
    writeFileSync(local, "");
    expect((await activate({ folder: workspace })).started[0].command).toBe(local);
    expect((await activate({ folder: workspace, settings: { "server.command": "/opt/mmfmc" } })).started[0].command).toBe("/opt/mmfmc");
  });

  it("says what to do when the server cannot start", async () => {
    const { errors } = await activate({ startFails: true });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("cannot start the language server `mmfmc lsp`");
    expect(errors[0]).toContain("mmfm.server.command");
  });
});

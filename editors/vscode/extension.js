// The mmfm extension: starts `mmfmc lsp --stdio` (the language server shipped with the mmfm package)
// for `.mmfm` files. Highlighting comes from syntaxes/mmfm.tmLanguage.json, brackets and comments
// from language-configuration.json. No build step: this file is the extension.
"use strict";
const fs = require("fs");
const path = require("path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;

/** The configured command, else the workspace's own mmfmc, else mmfmc on the PATH. */
function serverCommand() {
  const configured = vscode.workspace.getConfiguration("mmfm").get("server.command");
  if (configured) return configured;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const local = path.join(folder.uri.fsPath, "node_modules", ".bin", process.platform === "win32" ? "mmfmc.cmd" : "mmfmc");
    if (fs.existsSync(local)) return local;
  }
  return "mmfmc";
}

async function activate(context) {
  const command = serverCommand();
  // TransportKind.stdio adds `--stdio` to the arguments
  const run = { command, args: ["lsp"], transport: TransportKind.stdio, options: { shell: process.platform === "win32" } };
  const debounceMs = vscode.workspace.getConfiguration("mmfm").get("server.debounceMs");
  client = new LanguageClient(
    "mmfm",
    "mmfm",
    { run, debug: run },
    {
      documentSelector: [
        { scheme: "file", language: "mmfm" },
        { scheme: "untitled", language: "mmfm" },
      ],
      // imported files changed on disk are checked again
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.mmfm") },
      initializationOptions: { debounceMs },
    },
  );
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `mmfm: cannot start the language server \`${command} lsp\` (${error && error.message ? error.message : error}). ` +
        "Install mmfm (`npm install mmfm`) or set `mmfm.server.command`.",
    );
  }
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

/**
 * `mmfmc lsp`: the language server, over stdio. The protocol is the maintained vscode-languageserver
 * library's; the analysis is the compiler's (workspace.ts). Features: diagnostics as you type,
 * hover, completion, go to definition, document symbols, formatting (`mmfmc fmt`) and quick fixes.
 */
import { format } from "node:util";
import {
  CodeActionKind,
  createConnection,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { complete } from "./complete.js";
import { pathOfUri } from "./convert.js";
import { relativeTo } from "./describe.js";
import { codeActions, formatting } from "./edits.js";
import { definition, hover, type NavigationContext } from "./navigate.js";
import { documentSymbols } from "./symbols.js";
import { Workspace } from "./workspace.js";

export interface ServerOptions {
  readonly version: string;
  /** the folder used when the client names none */
  readonly cwd: string;
}

/** Settings a client may pass as `initializationOptions`. */
interface InitializationOptions {
  /** quiet time after an edit before checking, in ms (default 150) */
  readonly debounceMs?: number;
}

export function startServer(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, options: ServerOptions): Connection {
  const connection = createConnection(input, output);
  // stdout is the protocol's: anything printed goes to the client's log instead
  console.log = console.info = (...args: unknown[]) => connection.console.log(format(...args));
  console.warn = console.error = (...args: unknown[]) => connection.console.error(format(...args));

  const documents = new TextDocuments(TextDocument);
  let workspace: Workspace | undefined;
  let navigation: NavigationContext | undefined;

  connection.onInitialize((params): InitializeResult => {
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    const root = (folder && pathOfUri(folder)) || options.cwd;
    const init = (params.initializationOptions ?? {}) as InitializationOptions;
    workspace = new Workspace(documents, {
      root,
      debounceMs: typeof init.debounceMs === "number" && init.debounceMs >= 0 ? init.debounceMs : 150,
      publish: (uri, diagnostics, version) => void connection.sendDiagnostics({ uri, diagnostics, version }),
      log: (message) => connection.console.error(message),
    });
    const ws = workspace;
    navigation = {
      uriOf: ws.uriOf,
      showPath: relativeTo(root, ws.stdDir),
      isFile: (path) => ws.host.isFile(path),
      stdFiles: () => ws.host.stdFiles(),
    };
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: [".", '"'] },
        definitionProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: "mmfmc", version: options.version },
    };
  });

  documents.onDidOpen((e) => workspace?.opened(e.document.uri));
  documents.onDidChangeContent((e) => workspace?.changed(e.document.uri));
  documents.onDidClose((e) => workspace?.closed(e.document.uri));
  connection.onDidChangeWatchedFiles(() => workspace?.filesChanged());

  /** The analysis of a document and the offset of a position in it. */
  const at = (uri: string, position: { line: number; character: number }) => {
    const document = documents.get(uri);
    const analysis = workspace?.analysis(uri);
    if (!document || !analysis || analysis.version !== document.version) return undefined;
    return { document, analysis, offset: document.offsetAt(position) };
  };

  connection.onHover((params) => {
    const found = at(params.textDocument.uri, params.position);
    return found && navigation ? hover(found.analysis, found.offset, navigation) : null;
  });

  connection.onDefinition((params) => {
    const found = at(params.textDocument.uri, params.position);
    return found && navigation ? definition(found.analysis, found.offset, navigation) : [];
  });

  connection.onCompletion((params) => {
    const found = at(params.textDocument.uri, params.position);
    if (!found || !navigation) return [];
    const ws = workspace!;
    return complete(found.analysis, found.document.getText(), found.offset, {
      showPath: navigation.showPath,
      stdBindings: () => ws.stdBindings(),
    });
  });

  connection.onDocumentSymbol((params) => {
    const analysis = workspace?.analysis(params.textDocument.uri);
    return analysis?.file ? documentSymbols(analysis.file) : [];
  });

  connection.onDocumentFormatting((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document || !workspace) return [];
    const end = document.positionAt(document.getText().length);
    try {
      return formatting(document.getText(), workspace.pathOf(document.uri), end);
    } catch (error) {
      connection.console.error(`mmfmc fmt: internal error: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
  });

  connection.onCodeAction((params) => {
    const analysis = workspace?.analysis(params.textDocument.uri);
    return codeActions(params.context.diagnostics, analysis, workspace?.uriOf ?? ((p) => p));
  });

  // for the benchmark: how long the last check of a document took, and the parser's counters
  connection.onRequest("mmfm/stats", (params: { uri: string }) => workspace?.stats(params.uri) ?? null);

  documents.listen(connection);
  connection.listen();
  return connection;
}

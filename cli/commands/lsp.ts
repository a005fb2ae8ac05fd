import type { Command } from "../command.js";
import { Exit } from "../exit.js";

export const command: Command = {
  name: "lsp",
  usage: "mmfmc lsp [--stdio]",
  help: `Runs the mmfm language server: the Language Server Protocol over standard input and output,
for editors (VS Code, Neovim, Helix, Sublime Text; see docs/editors.md). It reports the diagnostics of
\`mmfmc check\` as you type, across imported files, and offers hover (families, resolved fields,
parameter counts), completion, go to definition, document symbols, formatting (\`mmfmc fmt\`) and
quick fixes for every "did you mean".

options:
  --stdio                   talk over stdin/stdout (the default and only transport; editors pass it)
  --clientProcessId PID     exit when the editor's process PID ends (editors pass it)`,
  options: { stdio: { value: false }, clientProcessId: { value: true } },
  async run() {
    const { startServer } = await import("../../lsp/server.js");
    const { packageVersion } = await import("../version.js");
    const connection = startServer(process.stdin, process.stdout, { version: packageVersion(), cwd: process.cwd() });
    // the server ends the process on the protocol's `exit` or when the client goes away
    await new Promise<void>((resolve) => connection.onExit(() => resolve()));
    return Exit.Ok;
  },
};

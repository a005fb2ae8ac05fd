#!/usr/bin/env node
// The mmfmc command. The TypeScript sources are compiled to dist/ by `npm install` (the `prepare` script).
import("../dist/cli/main.js")
  .then((cli) => cli.main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; })
  .catch((error) => {
    if (error && error.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/cli")) {
      process.stderr.write("mmfmc: not built yet; run `npm install` (or `npm run build`) in the mmfm folder\n");
    } else {
      process.stderr.write(`mmfmc: internal error: ${error && error.message ? error.message : error}\n`);
      if (process.argv.includes("--verbose") && error && error.stack) process.stderr.write(error.stack + "\n");
    }
    process.exitCode = 70;
  });

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // the CLI tests run bin/mmfmc.js over dist/: it is rebuilt first when a source is newer
    globalSetup: ["test/setup/dist.ts"],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

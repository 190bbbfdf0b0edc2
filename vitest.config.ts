import path from "node:path";
import { defineConfig } from "vitest/config";
import LongFilesFirst from "./tests/support/sequencer.js";

export default defineConfig({
  resolve: {
    // graphql ships CommonJS (main) and ESM (module) builds; Node gives our dependencies the CommonJS one,
    // so our own code must get the same copy or schema objects from "another realm" are rejected.
    alias: [{ find: /^graphql$/, replacement: path.resolve("node_modules/graphql/index.js") }],
  },
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests share one database and Redis; two at a time suits a 2-core CI machine.
    maxWorkers: 2,
    // Test files share a worker's module cache: loading the server, Prisma and the schema once per worker
    // instead of once per file saved more than half of `tests/api`'s time (import 83 s → 9 s). Tests keep no
    // state in modules: each file starts its own servers, clients and processes, and closes them.
    isolate: false,
    sequence: { sequencer: LongFilesFirst },
  },
});

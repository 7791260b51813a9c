import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["apps/*/test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests start real Postgres and OpenCode servers: keep the 2-core machine sane.
    fileParallelism: true,
    maxWorkers: 2,
    pool: "forks",
    reporters: ["default"],
  },
});

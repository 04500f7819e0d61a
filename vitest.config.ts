import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Builds dist/keel.mjs once when it is missing or stale: the CLI tests run the real bundle.
    globalSetup: ["tests/setup/build.ts"],
    // Two cores on every machine: two workers keep child-process tests from starving each other.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report feeds the closing "N passed, N failed" line that CI prints (scripts/test-summary.mjs).
    reporters: ["default", ["json", { outputFile: ".test-results/report.json" }]],
  },
});

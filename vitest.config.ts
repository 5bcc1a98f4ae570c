import { defineConfig } from "vitest/config";
import path from "node:path";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".next/**", "e2e/**", ".studio*/**"],
    globalSetup: ["db/testing/global-setup.ts"],
    reporters: ["default", "./db/testing/summary-reporter.ts"],
    pool: "forks",
    env: {
      NODE_ENV: "test",
      STUDIO_SECRET: "test-secret-0123456789-0123456789-0123456789",
      STUDIO_DATA_DIR: ".studio-test/data",
      STUDIO_ORIGIN: "http://localhost:3999",
    },
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

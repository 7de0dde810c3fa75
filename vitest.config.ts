import { defineConfig } from "vitest/config";

// Two projects: the unit tier needs no database, so it skips the global setup
// that starts Postgres and migrates the template; everything else shares it.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "stack",
          include: ["tests/integration/**/*.test.ts", "tests/e2e/**/*.test.ts"],
          globalSetup: ["tests/setup/global-setup.ts"],
        },
      },
    ],
  },
});

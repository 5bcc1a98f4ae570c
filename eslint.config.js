import path from "node:path";
import tseslint from "typescript-eslint";

/** no-restricted-imports sees only the written path: a relative import climbing out of server/ml is caught here. */
const engineRoot = path.join(import.meta.dirname, "server", "ml");
const engineStaysInside = {
  meta: { type: "problem", messages: { outside: "server/ml imports nothing outside itself ({{source}} leaves it)." } },
  create(context) {
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== "string" || !source.startsWith(".")) return;
      const target = path.resolve(path.dirname(context.filename), source);
      if (target !== engineRoot && !target.startsWith(engineRoot + path.sep)) context.report({ node: node.source, messageId: "outside", data: { source } });
    };
    return { ImportDeclaration: check, ImportExpression: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default tseslint.config(
  { ignores: ["node_modules/", ".next/", ".studio/", ".studio-test/", "next-env.d.ts", "db/migrations/"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration through server/env.ts." }],
    },
  },
  // Layers (../shared/DESIGN.md): the engine stands alone; pages, routes and dialects reach data through services.
  {
    files: ["server/**"],
    ignores: ["server/compat/**", "server/http/**", "server/realtime/extensions.ts", "**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@/server/compat", "@/server/compat/*"], message: "Domain services serve every face; an old dialect's code calls them, never the other way round." }] }],
    },
  },
  {
    files: ["server/compat/**"],
    ignores: ["**/*.test.ts", "server/compat/shared/testing.ts", "server/compat/shared/experiment-fixture.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@/db", "@/db/*"], message: "A dialect reshapes what the domain services return; it never reads the database itself." }] }],
    },
  },
  {
    files: ["server/ml/**"],
    plugins: { studio: { rules: { "engine-stays-inside": engineStaysInside } } },
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@/*", "!@/server", "@/server/*", "!@/server/ml"], message: "server/ml imports nothing outside itself." }] }],
      "studio/engine-stays-inside": "error",
    },
  },
  {
    files: ["app/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@/db/*"], message: "Pages and route files call services (server/…), never the database." }] }],
    },
  },
  {
    files: ["server/ml/**/*.test.ts", "server/ml/**/testing/**"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    files: ["server/env.ts", "e2e/**", "**/*.test.ts", "vitest.config.ts", "vitest.setup.ts", "drizzle.config.ts", "next.config.ts", "server/ml/**", "server/bench/**", "workers/supervisor.ts", "db/testing/**"],
    rules: { "no-restricted-properties": "off" },
  },
);

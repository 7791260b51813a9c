import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

/** Workflow code is deterministic: it may not reach I/O, the clock or randomness directly. */
const workflowForbiddenImports = [
  "node:fs", "node:fs/promises", "fs", "fs/promises", "node:child_process", "child_process",
  "node:net", "node:http", "node:https", "pg", "@opencode-ai/sdk", "@opencode-ai/sdk/v2", "undici",
  "node:crypto", "crypto",
].map((name) => ({ name, message: "workflow code is deterministic: do I/O in a named step" }));

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "coverage/**", "apps/web/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // Studio runs in the browser
    files: ["apps/studio/src/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["apps/server/src/workflow/**/*.ts"],
    ignores: ["apps/server/src/workflow/steps/**", "apps/server/src/workflow/runtime.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        paths: workflowForbiddenImports,
        patterns: [{ group: ["**/db/**", "**/agent/**", "**/workspace/**", "**/model/**"], message: "workflow code reaches I/O only through ./steps" }],
      }],
      "no-restricted-globals": ["error", { name: "fetch", message: "network only in steps" }],
      "no-restricted-properties": ["error",
        { object: "Date", property: "now", message: "use the Clock port through a step" },
        { object: "Math", property: "random", message: "use the Random port through a step" },
        { object: "performance", property: "now", message: "use the Clock port through a step" },
      ],
      "no-restricted-syntax": ["error", { selector: "NewExpression[callee.name='Date']", message: "use the Clock port through a step" }],
    },
  },
);

// One lint configuration for the whole monorepo: typescript-eslint's type-checked rules on every
// TypeScript file (each file is checked against the tsconfig of its own workspace), React's
// hooks rules and Next's rules on the web app, and one house rule: `process.env` is read only in
// the modules whose job is configuration, so every variable has one home and one default.
import js from "@eslint/js";
import nextPlugin from "@next/eslint-plugin-next";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

/** The modules allowed to read `process.env` (runtime configuration lives here and nowhere else). */
const configModules = [
  "apps/web/src/server/config.ts",
  "apps/web/src/server/site-config.ts",
  "apps/web/next.config.ts",
  "apps/optimizer/src/config.ts",
  "packages/engine/src/env.ts",
  "packages/db/src/env.ts",
  "packages/files/src/config.ts",
];

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/.next/**",
      "**/.next-e2e/**",
      "**/.turbo/**",
      "**/.vitest/**",
      "**/dist/**",
      "packages/db/src/generated/**",
      "apps/web/next-env.d.ts",
      "e2e/test-results/**",
      "e2e/playwright-report/**",
      "data/**",
      "models/**",
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: "error", reportUnusedInlineConfigs: "error" } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: ["*.mjs", "*.ts", "scripts/*.mjs", "scripts/lib/*.mjs", "scripts/lib/*.d.mts"],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-floating-promises": "error",
      // React event handlers may be async: React ignores their promise, and each handler catches its own errors.
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "prefer-const": "error",
      // APIs here ask for Promise-returning callbacks (Prisma's adapter factory, the frame scheduler's draw):
      // an async function that happens not to await is the honest way to meet them.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // process.env belongs to the configuration modules; everything else takes its settings from them.
    files: ["apps/*/src/**/*.{ts,tsx}", "packages/*/src/**/*.ts"],
    ignores: configModules,
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read environment variables in the package's config module." },
      ],
    },
  },
  {
    // Tests read JSON bodies and socket payloads as `unknown`-ish values and check them with expect(): the
    // assertion is the type check there, so the no-unsafe-* family would only add casts.
    files: ["**/test/**/*.ts", "e2e/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // Playwright finds a fixture's dependencies by reading its first parameter's destructuring: `{}` means none.
    files: ["e2e/support/fixtures.ts"],
    rules: { "no-empty-pattern": "off" },
  },
  {
    files: ["**/*.{js,mjs,cjs}"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["apps/web/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks, "@next/next": nextPlugin },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...nextPlugin.configs.recommended.rules,
      ...nextPlugin.configs["core-web-vitals"].rules,
    },
    settings: { next: { rootDir: "apps/web" } },
  },
);

// Lint: typescript-eslint's type-checked recommended rules (the type checker sees the whole
// tsconfig.json project through the project service) plus the vitest plugin, which forbids focused
// and skipped tests (CI must run everything). Formatting is Prettier's job (`npm run format`).
import js from '@eslint/js';
import vitest from '@vitest/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'cdk.out/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // `typeof import('…')` types the lazily loaded AWS SDK module without loading it.
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      // A promise nobody awaits loses its rejection; one passed where a callback's result is
      // ignored (an event handler, a `void` callback) does too.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      'no-control-regex': 'off',
    },
  },
  {
    // The Lambda core never imports the tools, the custom resources or the CDK code: what the
    // function bundles stays the core (docs/adr/0007-core-and-tools-apart.md).
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(tools|custom-resources|infra)(/|$)',
              message: 'src/core is the Lambda: it may not import the tools, custom resources or infra.',
            },
          ],
        },
      ],
    },
  },
  {
    // Plain JavaScript (the build and test scripts, this file) is outside the TypeScript project.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['test/**/*.ts'],
    plugins: { vitest },
    rules: {
      'vitest/no-focused-tests': 'error',
      'vitest/no-disabled-tests': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);

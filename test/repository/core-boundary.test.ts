/**
 * The Lambda bundle holds the core and nothing else: every repository input esbuild recorded for
 * dist/handler.mjs (its metafile, dist/handler.meta.json, written by `npm run build`) lies under
 * src/core/, and its packages are the Lambda's own dependencies. The tools (src/tools), the
 * custom resources and the CDK code can never reach the function by an import.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

interface Metafile {
  inputs: Record<string, unknown>;
}

function handlerInputs(): string[] {
  const metafile = JSON.parse(readFileSync(join(ROOT, 'dist', 'handler.meta.json'), 'utf8')) as Metafile;
  return Object.keys(metafile.inputs);
}

/** The package an input belongs to (`@scope/name` or `name`), or undefined for repository files. */
function packageOf(input: string): string | undefined {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
}

describe('the handler bundle (esbuild metafile)', () => {
  it('takes every repository file from src/core', () => {
    // Act
    const repositoryInputs = handlerInputs().filter((input) => packageOf(input) === undefined);

    // Assert
    expect(repositoryInputs.length).toBeGreaterThan(20);
    expect(repositoryInputs.filter((input) => !input.startsWith('src/core/'))).toEqual([]);
  });

  it('bundles only the packages the Lambda depends on (and theirs)', () => {
    // Arrange: the direct dependencies the core imports, and the families their own code pulls in.
    const allowed = [
      /^jose$/,
      /^valibot$/,
      /^@middy\//,
      /^@aws-sdk\//,
      /^@smithy\//,
      /^@aws\//,
      /^@aws-crypto\//,
      /^bowser$/,
      /^tslib$/,
      /^fast-xml-parser$/,
      /^strnum$/,
      /^uuid$/,
    ];

    // Act
    const packages = [
      ...new Set(
        handlerInputs()
          .map(packageOf)
          .filter((name) => name !== undefined),
      ),
    ];

    // Assert
    expect(packages).toContain('jose');
    expect(packages).toContain('@middy/core');
    expect(packages.filter((name) => !allowed.some((pattern) => pattern.test(name)))).toEqual([]);
  });
});

describe('the package dependencies', () => {
  /** Bare package names a folder's TypeScript loads (static and literal dynamic imports). */
  function packagesImportedBy(folder: string): Set<string> {
    const files = execFileSync('git', ['ls-files', folder], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((file) => file.endsWith('.ts'));
    const names = new Set<string>();
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      // Type-only imports (aws-lambda's types come from @types/aws-lambda) load nothing at run time.
      const code = text.replace(/^import type [^;]*;/gm, '');
      for (const match of code.matchAll(/(?:from|import\()\s*'([^'.][^']*)'/g)) {
        const specifier = match[1]!;
        if (specifier.startsWith('node:')) continue;
        names.add(
          specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!,
        );
      }
    }
    return names;
  }

  it('are exactly what the Lambda and the CLI import; the sandbox brings its own as development dependencies', () => {
    // Arrange
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const runtime = new Set([...packagesImportedBy('src/core'), ...packagesImportedBy('src/tools/cli')]);

    // Act
    const dependencies = Object.keys(manifest.dependencies).sort();

    // Assert
    expect(dependencies).toEqual([...runtime].sort());
    expect(Object.keys(manifest.devDependencies)).toContain('oidc-provider');
    expect(dependencies).not.toContain('oidc-provider');
  });
});

/**
 * The authorizer's Lambda asset holds the handler bundle (and, by default, the config) and nothing else, whatever else dist/ grows:
 * not the CLI, not the custom-resource code (which bundles a second AWS SDK), not the esbuild metafile.
 * Uses a fake dist/ so the test does not depend on which other outputs exist today.
 */

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, expect, it } from 'vitest';
import { HealthImagingAuthorizer } from '../../infra/healthimaging-authorizer.ts';
import { ACCOUNT, deployConfig, REGION, STACK_NAME, SYNTH_TIMEOUT_MS } from '../support/synth-stack.ts';

const work = mkdtempSync(join(tmpdir(), 'ahi-asset-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it.each([
  [
    'bundled',
    ['authorizer-config.json', 'chunks/bowser-BBBB.mjs.LEGAL.txt', 'chunks/chunk-AAAA.mjs', 'handler.mjs'],
  ],
  ['parameter', ['chunks/bowser-BBBB.mjs.LEGAL.txt', 'chunks/chunk-AAAA.mjs', 'handler.mjs']],
] as const)(
  'with the config %s, contains only handler.mjs, chunks/ (and the config), never the CLI, the test factory, custom resources or metadata',
  (configDelivery, expected) => {
    // Arrange
    const dist = join(work, `dist.${configDelivery}`);
    const files = [
      'handler.mjs',
      'handler.meta.json',
      'cli.mjs',
      'chunks/chunk-AAAA.mjs',
      'chunks/bowser-BBBB.mjs.LEGAL.txt',
      'custom-resources/create-datastore.mjs',
      'authorizer/authorizer.mjs',
      'authorizer/chunks/chunk-CCCC.mjs',
    ];
    for (const file of files) {
      mkdirSync(join(dist, file, '..'), { recursive: true });
      writeFileSync(join(dist, file), `// ${file}\n`);
    }
    const app = new App({ outdir: join(work, `cdk.out.${configDelivery}`) });
    const stack = new Stack(app, STACK_NAME, { env: { account: ACCOUNT, region: REGION } });
    new HealthImagingAuthorizer(stack, 'Authorizer', {
      configJson: JSON.stringify(deployConfig()),
      datastores: '*',
      configDelivery,
      distDirectory: dist,
    });

    // Act
    const assembly = app.synth();
    const assetDirs = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    const staged = assetDirs.map((dir) =>
      readdirSync(join(assembly.directory, dir), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(join(assembly.directory, dir), join(entry.parentPath, entry.name)))
        .sort(),
    );

    // Assert
    expect(staged).toEqual([expected]);
  },
  SYNTH_TIMEOUT_MS,
);

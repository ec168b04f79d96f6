/**
 * Generates config.schema.json (the published JSON Schema of the configuration, PRODUCT.md §3)
 * from the one zod definition, so editors, `$schema` hints and the validator cannot disagree.
 * Run with `npm run schema`; test/config checks that the committed file matches.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { AuthorizerConfigSchema } from '../src/config/schema.ts';

export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL('../config.schema.json', import.meta.url));
export const CONFIG_SCHEMA_ID = 'urn:healthimaging-oidc-authorizer:config';

/** The schema of what an operator writes (`io: 'input'`: defaulted keys are optional). */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema: _draft, ...generated } = z.toJSONSchema(AuthorizerConfigSchema, { io: 'input' });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: CONFIG_SCHEMA_ID,
    title: 'healthimaging-oidc-authorizer configuration',
    ...generated,
  };
}

export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_SCHEMA_PATH, configJsonSchemaText());
  // The repo's formatter owns the layout (it keeps short arrays on one line), so `npm run lint`
  // stays clean after every regeneration; the test compares content, not whitespace.
  const prettier = createRequire(import.meta.url).resolve('prettier/bin/prettier.cjs');
  execFileSync(process.execPath, [prettier, '--write', CONFIG_SCHEMA_PATH], { stdio: 'inherit' });
  console.log(`wrote ${CONFIG_SCHEMA_PATH}`);
}

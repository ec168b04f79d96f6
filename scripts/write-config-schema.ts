/**
 * Generates config.schema.json (the published JSON Schema of the configuration, docs/configuration.md)
 * from the one valibot definition, so editors, `$schema` hints and the validator cannot disagree.
 * Run with `npm run schema`; test/config checks that the committed file matches.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import { AuthorizerConfigSchema } from '../src/core/config/schema.ts';

export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL('../config.schema.json', import.meta.url));
const CONFIG_SCHEMA_ID = 'urn:healthimaging-oidc-authorizer:config';

/**
 * The schema of what an operator writes: defaulted keys are optional (valibot's `optional` with a
 * default). `typeMode: 'output'` describes a pipeline by its last schema: the claims (and every
 * strict object) first pass a check on the raw value, then the record (object) that is the shape.
 * Nothing in the configuration transforms, so this is also the input. The checks named below are
 * the only ones skipped; anything else that cannot be converted fails the generation.
 */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema: _draft, ...generated } = toJsonSchema(AuthorizerConfigSchema, {
    target: 'draft-2020-12',
    typeMode: 'output',
    // JSON Schema cannot say these; the validator still checks them: the endpoint URL rules (https,
    // loopback-only http, no whitespace, credentials or fragment), audience-or-clientIds, the
    // operation names, claim paths without __proto__ / prototype / constructor segments, at least one
    // claim condition, unique issuers and rule names, rule issuers that are configured, and claim
    // numbers being finite.
    ignoreActions: ['check', 'raw_check', 'finite'],
  });
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

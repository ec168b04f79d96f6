/**
 * The published artifacts cannot drift from the valibot definition: config.schema.json on disk is
 * what `npm run schema` generates, and the example configuration validates.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_PATH, configJsonSchema } from '../../scripts/write-config-schema.ts';
import { parseConfigText } from '../../src/core/config/schema.ts';

const EXAMPLE_PATH = new URL('../../examples/config.example.json', import.meta.url);

describe('config.schema.json', () => {
  it('equals the schema generated from AuthorizerConfigSchema (run `npm run schema` after changing it)', () => {
    // Arrange
    const onDisk: unknown = JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8'));

    // Act
    const generated = configJsonSchema();

    // Assert
    expect(onDisk).toEqual(generated);
  });

  it('declares draft 2020-12, the project title, and forbids unknown top-level keys', () => {
    // Arrange
    const schema = configJsonSchema();

    // Act
    const { $schema, $id, title, additionalProperties, required } = schema;

    // Assert
    expect($schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect($id).toEqual(expect.any(String));
    expect(title).toBe('healthimaging-oidc-authorizer configuration');
    expect(additionalProperties).toBe(false);
    expect(required).toEqual(['issuers', 'rules']);
  });
});

describe('examples/config.example.json', () => {
  it('validates and points editors at the schema', () => {
    // Arrange
    const text = readFileSync(EXAMPLE_PATH, 'utf8');

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result.ok || result.issues).toBe(true);
    expect((JSON.parse(text) as { $schema?: unknown }).$schema).toBe('../config.schema.json');
  });

  it('carries the issuers and rules of the example configuration', () => {
    // Arrange
    const result = parseConfigText(readFileSync(EXAMPLE_PATH, 'utf8'));

    // Act
    const config = result.ok ? result.config : undefined;

    // Assert
    expect(config?.issuers.map((i) => i.issuer)).toEqual([
      'https://sts.windows.net/00000000-0000-0000-0000-000000000001/',
      'https://keycloak.example.org/realms/dcm4che',
    ]);
    expect(config?.rules.map((r) => r.name)).toEqual(['radiologists', 'pacs-app', 'keycloak-readers']);
  });
});

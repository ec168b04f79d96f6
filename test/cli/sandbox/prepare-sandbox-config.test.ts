/**
 * The sandbox's config preparation: the placeholder issuer becomes the embedded IdP's, and a
 * configuration is judged as written, with the Lambda's own JSON-path messages, before any rewrite.
 */

import { describe, expect, it } from 'vitest';
import {
  prepareSandboxConfig,
  SANDBOX_ISSUER_PLACEHOLDER,
} from '../../../src/tools/sandbox/prepare-sandbox-config.ts';

const EMBEDDED = 'http://127.0.0.1:4100/embedded-idp';
const ROLE = 'arn:aws:iam::111122223333:role/AhiRead';

describe('prepareSandboxConfig', () => {
  it('rejects a configuration that repeats a key, naming its JSON path, instead of rewriting it without', () => {
    // Arrange: rewriting through JSON.parse + JSON.stringify would silently keep the second operations.
    const text =
      `{"issuers":[{"issuer":"${SANDBOX_ISSUER_PLACEHOLDER}","audience":"api://ahi"}],` +
      `"rules":[{"name":"r","roleArn":"${ROLE}","claims":{"scope":"x"},"operations":["read"],"operations":["write"]}]}`;

    // Act
    const prepared = prepareSandboxConfig(text, EMBEDDED);

    // Assert
    expect(prepared).toEqual({
      ok: false,
      issues: [
        {
          path: '$.rules[0].operations',
          message: 'duplicate key "operations" (JSON keeps only the last one)',
        },
      ],
    });
  });
});

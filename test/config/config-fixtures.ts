/**
 * Configuration documents shared by the config tests: a minimal valid one to vary, and text
 * helpers, so each test states only the part it is about.
 */

import type { AuthorizerConfigInput } from '../../src/core/config/schema.ts';

export const ISSUER = 'https://idp.example.com/realms/ahi';

export function validConfig(): AuthorizerConfigInput {
  return {
    issuers: [{ issuer: ISSUER, audience: 'api://ahi' }],
    rules: [
      { name: 'readers', roleArn: 'arn:aws:iam::111122223333:role/AhiRead', claims: { groups: 'readers' } },
    ],
  };
}

export function validConfigText(ruleName = 'readers'): string {
  const config = validConfig();
  config.rules[0]!.name = ruleName;
  return JSON.stringify(config);
}

/** Valid JSON, invalid config: the classic typo that must fail loudly with its path. */
export const TYPO_CONFIG_TEXT = JSON.stringify({
  issuers: [{ issuer: ISSUER, clientIds: ['pacs'], audiance: 'api://ahi' }],
  rules: validConfig().rules,
});

export const TYPO_ISSUE = { path: '$.issuers[0].audiance', message: 'unknown key (check for a typo)' };

/**
 * Valid JSON whose rule looks read-only in review, but JSON.parse keeps the second `operations`:
 * a read-write rule. It must fail with the path of the repeated key.
 */
export const DUPLICATE_KEY_CONFIG_TEXT = `{
  "issuers": [{ "issuer": "${ISSUER}", "audience": "api://ahi" }],
  "rules": [
    {
      "name": "readers",
      "roleArn": "arn:aws:iam::111122223333:role/AhiRead",
      "operations": ["read"],
      "claims": { "groups": "readers" },
      "operations": ["read", "write"]
    }
  ]
}`;

export const DUPLICATE_KEY_ISSUE = {
  path: '$.rules[0].operations',
  message: 'duplicate key "operations" (JSON keeps only the last one)',
};

/**
 * The secure-by-default limits of the configuration schema (docs/configuration.md):
 * each case changes one field of a valid config and expects that field's JSON path.
 */

import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText } from '../../src/core/config/schema.ts';
import { ISSUER, validConfig } from '../support/fixtures/config.ts';
import { match } from '../support/matchers.ts';

function issuePaths(value: unknown): string[] {
  const result = parseConfig(value);
  return result.ok ? [] : result.issues.map((issue) => issue.path);
}

describe('AuthorizerConfigSchema', () => {
  it('accepts the minimal valid config used by these tests', () => {
    // Arrange
    const config = validConfig();

    // Act
    const result = parseConfig(config);

    // Assert
    expect(result.ok).toBe(true);
  });

  it('rejects an http issuer on a non-loopback host without a pinned jwksUri, saying why', () => {
    // Arrange
    const config = validConfig();
    config.issuers[0]!.issuer = 'http://idp.example.com/realms/ahi';

    // Act
    const paths = issuePaths(config);

    // Assert
    expect(paths).toEqual(['$.issuers[0].issuer']);
  });

  it('accepts an http issuer (AD FS default identifier) when an https jwksUri is pinned', () => {
    // Arrange: the issuer is then only a name; keys come from the pinned URL over TLS.
    const config = validConfig();
    config.issuers[0]!.issuer = 'http://adfs.example.org/adfs/services/trust';
    config.issuers[0]!.jwksUri = 'https://adfs.example.org/adfs/discovery/keys';

    // Act
    const result = parseConfig(config);

    // Assert
    expect(result.ok).toBe(true);
  });

  it('names the missing jwksUri for an http issuer, and still refuses an http jwksUri', () => {
    // Arrange
    const bare = validConfig();
    bare.issuers[0]!.issuer = 'http://adfs.example.org/adfs/services/trust';
    const plain = validConfig();
    plain.issuers[0]!.issuer = 'http://adfs.example.org/adfs/services/trust';
    plain.issuers[0]!.jwksUri = 'http://adfs.example.org/adfs/discovery/keys';

    // Act
    const bareResult = parseConfig(bare);
    const plainPaths = issuePaths(plain);

    // Assert
    expect(bareResult.ok ? [] : bareResult.issues).toEqual([
      {
        path: '$.issuers[0].issuer',
        message:
          'an http issuer is only an identifier: set jwksUri to the https JWKS URL (discovery from an http issuer is never used)',
      },
    ]);
    expect(plainPaths).toEqual(['$.issuers[0].jwksUri']);
  });

  it('accepts an http issuer on 127.0.0.1 for local testing', () => {
    // Arrange
    const config = validConfig();
    config.issuers[0]!.issuer = 'http://127.0.0.1:8080/realms/ahi';

    // Act
    const paths = issuePaths(config);

    // Assert
    expect(paths).toEqual([]);
  });

  it('rejects HS256 in algorithms', () => {
    // Arrange
    const config = validConfig();
    config.issuers[0]!.algorithms = ['RS256', 'HS256' as 'RS256'];

    // Act
    const paths = issuePaths(config);

    // Assert
    expect(paths).toEqual(['$.issuers[0].algorithms[1]']);
  });

  it('rejects clockToleranceSeconds 301 and accepts 300', () => {
    // Arrange
    const tooLoose = validConfig();
    tooLoose.issuers[0]!.clockToleranceSeconds = 301;
    const atLimit = validConfig();
    atLimit.issuers[0]!.clockToleranceSeconds = 300;

    // Act
    const rejected = issuePaths(tooLoose);
    const accepted = issuePaths(atLimit);

    // Assert
    expect(rejected).toEqual(['$.issuers[0].clockToleranceSeconds']);
    expect(accepted).toEqual([]);
  });

  it('leaves acceptIdTokens unset by default (ID tokens refused) and accepts true or false', () => {
    // Arrange
    const optIn = validConfig();
    optIn.issuers[0]!.acceptIdTokens = true;
    const optOut = validConfig();
    optOut.issuers[0]!.acceptIdTokens = false;

    // Act
    const byDefault = parseConfig(validConfig());

    // Assert
    expect(byDefault.ok && byDefault.config.issuers[0]!.acceptIdTokens).toBeUndefined();
    expect(issuePaths(optIn)).toEqual([]);
    expect(issuePaths(optOut)).toEqual([]);
  });

  it.each([
    ['the string "true"', 'true'],
    ['the number 1', 1],
    ['null', null],
  ])('rejects acceptIdTokens as %s (a boolean only)', (_name, value) => {
    // Arrange
    const config = validConfig();
    (config.issuers[0] as Record<string, unknown>)['acceptIdTokens'] = value;

    // Act
    const result = parseConfig(config);

    // Assert
    expect(result).toEqual({
      ok: false,
      issues: [{ path: '$.issuers[0].acceptIdTokens', message: match.stringContaining('boolean') }],
    });
  });

  it('rejects maxTokenAgeSeconds 43201 (beyond HealthImaging’s 12 hours) and accepts 43200', () => {
    // Arrange
    const tooOld = { ...validConfig(), maxTokenAgeSeconds: 43_201 };
    const atLimit = { ...validConfig(), maxTokenAgeSeconds: 43_200 };

    // Act
    const rejected = issuePaths(tooOld);
    const accepted = issuePaths(atLimit);

    // Assert
    expect(rejected).toEqual(['$.maxTokenAgeSeconds']);
    expect(accepted).toEqual([]);
  });

  it('rejects duplicate rule names at the second occurrence', () => {
    // Arrange
    const config = validConfig();
    config.rules.push({ ...config.rules[0]!, roleArn: 'arn:aws:iam::111122223333:role/Other' });

    // Act
    const result = parseConfig(config);

    // Assert
    expect(result).toEqual({
      ok: false,
      issues: [{ path: '$.rules[1].name', message: 'duplicate rule name "readers"' }],
    });
  });

  it('rejects a rule issuer that is not a configured issuer', () => {
    // Arrange
    const config = validConfig();
    config.rules[0]!.issuer = 'https://other.example.com';

    // Act
    const paths = issuePaths(config);

    // Assert
    expect(paths).toEqual(['$.rules[0].issuer']);
  });

  it('accepts a rule issuer that is configured', () => {
    // Arrange
    const config = validConfig();
    config.rules[0]!.issuer = ISSUER;

    // Act
    const paths = issuePaths(config);

    // Assert
    expect(paths).toEqual([]);
  });

  it('rejects an issuer with neither audience nor clientIds', () => {
    // Arrange
    const config = validConfig();
    delete config.issuers[0]!.audience;

    // Act
    const result = parseConfig(config);

    // Assert
    expect(result).toEqual({
      ok: false,
      issues: [
        {
          path: '$.issuers[0]',
          message:
            'set audience or clientIds (or both): a token must be bound to this API or to known clients',
        },
      ],
    });
  });

  it('rejects a rule whose only claim path is __proto__, naming that key', () => {
    // Arrange: JSON.parse makes "__proto__" an own key, as it would be in a config file.
    const config = validConfig();
    const text = JSON.stringify(config).replace('"claims":{"groups":', '"claims":{"__proto__":');

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(text).toContain('"__proto__":"readers"');
    expect(result.ok || result.issues.map((i) => i.path)).toEqual(['$.rules[0].claims.__proto__']);
  });

  it('rejects a __proto__ condition next to others instead of silently dropping it', () => {
    // Arrange: record parsing (valibot's, as zod's before it) would drop the key and leave a looser rule.
    const config = validConfig();
    const text = JSON.stringify(config).replace(
      '"claims":{"groups":"readers"',
      '"claims":{"groups":"readers","__proto__":"x"',
    );

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(text).toContain('"__proto__":"x"');
    expect(result.ok || result.issues.map((i) => i.path)).toEqual(['$.rules[0].claims.__proto__']);
  });

  it.each(['prototype', 'realm_access.constructor'])('rejects the claim path %s', (path) => {
    // Arrange
    const config = validConfig();
    config.rules[0]!.claims = { groups: 'readers', [path]: 'x' };

    // Act
    const paths = issuePaths(config);

    // Assert
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatch(/^\$\.rules\[0\]\.claims/);
  });
});

describe('issue messages', () => {
  const messages = (value: unknown) => {
    const result = parseConfig(value);
    return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
  };

  it('says a missing key is required, in its own words rather than the validator’s', () => {
    // Arrange
    const { rules: _rules, ...noRules } = validConfig();
    const noName = validConfig();
    delete (noName.rules[0] as { name?: string }).name;

    // Act / Assert
    expect(messages(noRules)).toEqual(['$.rules: required']);
    expect(messages(noName)).toEqual(['$.rules[0].name: required']);
  });

  it('says what an empty list of issuers or rules means', () => {
    expect(messages({ issuers: [], rules: [] })).toEqual([
      '$.issuers: list at least one issuer: the identity providers whose tokens are trusted',
      '$.rules: list at least one rule: without one every token is denied (no_role_mapping)',
    ]);
    expect(messages({ issuers: [] })).toEqual([
      '$.issuers: list at least one issuer: the identity providers whose tokens are trusted',
      '$.rules: required',
    ]);
  });

  it('words the other length limits without the validator’s terms', () => {
    // Arrange
    const config = validConfig();
    config.issuers[0]!.audience = [];
    config.issuers[0]!.clientIds = [''];

    // Act
    const found = messages(config);

    // Assert
    expect(found).toEqual([
      '$.issuers[0].audience: must not be empty: list at least one entry',
      '$.issuers[0].clientIds[0]: must not be empty',
    ]);
    expect(found.join('\n')).not.toMatch(/Invalid|Expected|received/);
  });
});

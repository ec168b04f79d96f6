/**
 * Synth-time config validation: the construct refuses a config the handler would reject (same schema,
 * same JSON-path messages) or one whose rules name a role outside the deployment's allowlist, and the
 * app turns either into a one-line `cdk synth` failure. Also: an environment-agnostic stack (a team's
 * own app) still checks role names by path.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAuthorizerConfig } from '../../infra/check-authorizer-config.ts';
import { HealthImagingAuthorizer } from '../../infra/healthimaging-authorizer.ts';
import {
  ACCOUNT,
  deployConfig,
  READ_ONLY_ROLE,
  READ_WRITE_ROLE,
  READ_WRITE_ROLE_NAME,
  REGION,
  STACK_NAME,
  SYNTH_TIMEOUT_MS,
} from '../support/synth-stack.ts';

const REPO = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'ahi-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function typoConfig(): Record<string, unknown> {
  const config = deployConfig() as { issuers: Record<string, unknown>[] };
  const { audience, ...issuer } = config.issuers[0]!;
  config.issuers[0] = { ...issuer, audiance: audience };
  return config;
}

/** The viewers rule reads as read-only, but JSON.parse keeps its second `operations`: read-write. */
function repeatedKeyConfigText(): string {
  const text = JSON.stringify(deployConfig());
  const repeated = text.replace(
    '"operations":["read"]',
    '"operations":["read"],"operations":["read","write"]',
  );
  if (repeated === text) throw new Error('deployConfig() no longer has a read-only rule to repeat a key in');
  return repeated;
}

const REPEATED_KEY_ISSUE = '$.rules[1].operations: duplicate key "operations" (JSON keeps only the last one)';

function buildAuthorizer(configJson: string, env?: { account: string; region: string }) {
  const stack = new Stack(new App(), STACK_NAME, env ? { env } : {});
  return new HealthImagingAuthorizer(stack, 'Authorizer', {
    configJson,
    configSource: 'config.json',
    datastores: '*',
  });
}

describe('checkAuthorizerConfig', () => {
  it('accepts a config whose rules name allowed roles', () => {
    // Act
    const { config, warnings } = checkAuthorizerConfig(JSON.stringify(deployConfig()), [
      READ_ONLY_ROLE,
      READ_WRITE_ROLE,
    ]);

    // Assert
    expect(config.rules.map((rule) => rule.name)).toEqual(['radiologists', 'viewers']);
    expect(warnings).toEqual([]);
  });

  it('fails on a lint problem, naming the rule by its JSON path', () => {
    // Arrange: a scope with a space can never match (scp is split on spaces).
    const config = deployConfig();
    (config['rules'] as { claims: Record<string, unknown> }[])[0]!.claims = { scp: 'Dicom.Read Dicom.Write' };

    // Act
    const check = () => checkAuthorizerConfig(JSON.stringify(config), [READ_ONLY_ROLE, READ_WRITE_ROLE]);

    // Assert
    expect(check).toThrow(
      '$.rules[0].claims.scp (radiologists): condition scp: a value with a space can never match (scp is split on spaces',
    );
  });

  it('returns lint warnings (a shadowed rule, an unknown operation, an issuer no rule reaches) without failing', () => {
    // Arrange
    const base = deployConfig();
    const rules = base['rules'] as Record<string, unknown>[];
    const config = {
      ...base,
      issuers: [
        ...(base['issuers'] as object[]),
        { issuer: 'https://other.example.com', audience: 'api://ahi-dicomweb' },
      ],
      rules: [
        { ...rules[0], issuer: 'https://idp.example.com/realms/ahi' },
        {
          ...rules[1],
          name: 'viewers',
          claims: { scp: 'Dicom.ReadWrite' },
          issuer: 'https://idp.example.com/realms/ahi',
        },
        {
          ...rules[1],
          name: 'typo',
          operations: ['GetDICOMInstanse', 'read'],
          issuer: 'https://idp.example.com/realms/ahi',
        },
      ],
    };

    // Act
    const { warnings } = checkAuthorizerConfig(JSON.stringify(config), [READ_ONLY_ROLE, READ_WRITE_ROLE]);

    // Assert
    expect(warnings).toEqual([
      '$.issuers[1]: no rule applies to tokens of https://other.example.com: each names another issuer (add a rule for this issuer, or remove the issuer if it should not be trusted)',
      '$.rules[1] (viewers): never decides: the earlier rule radiologists matches every token this rule matches (rules are tried in order and the first match wins: move the narrower rule first)',
      '$.rules[2].operations (typo): operations ["GetDICOMInstanse"] are not HealthImaging operations (a typo?)',
    ]);
  });

  it('fails on a tokenType no Entra ID token carries, naming the issuer key by its JSON path', () => {
    // Arrange: Entra ID access tokens carry typ "JWT"; at+jwt would deny every one (typ_invalid).
    const config = deployConfig();
    (config['issuers'] as Record<string, unknown>[])[0] = {
      issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0',
      audience: 'api://ahi-dicomweb',
      tokenType: 'at+jwt',
    };

    // Act
    const check = () => checkAuthorizerConfig(JSON.stringify(config), [READ_ONLY_ROLE, READ_WRITE_ROLE]);

    // Assert
    expect(check).toThrow(
      'the authorizer config is invalid:\n  $.issuers[0].tokenType: tokenType "at+jwt" on an Entra ID issuer (Entra ID access tokens carry typ "JWT"',
    );
  });

  it('names a typo by its JSON path, exactly as the handler logs it', () => {
    // Act
    const check = () =>
      checkAuthorizerConfig(JSON.stringify(typoConfig()), [READ_ONLY_ROLE, READ_WRITE_ROLE]);

    // Assert
    expect(check).toThrow('$.issuers[0].audiance: unknown key (check for a typo)');
  });

  it('names the rule whose role is outside the allowlist', () => {
    // Arrange
    const admin = `arn:aws:iam::${ACCOUNT}:role/Admin`;

    // Act
    const check = () =>
      checkAuthorizerConfig(JSON.stringify(deployConfig({ roleArns: [READ_WRITE_ROLE, admin] })), [
        READ_ONLY_ROLE,
        READ_WRITE_ROLE,
      ]);

    // Assert
    expect(check).toThrow(
      `$.rules[1].roleArn: rule "viewers" names ${admin}, which is not in the deployment's role allowlist`,
    );
  });

  it('names a repeated key by its JSON path, exactly as the handler logs it', () => {
    // Act
    const check = () => checkAuthorizerConfig(repeatedKeyConfigText(), [READ_ONLY_ROLE, READ_WRITE_ROLE]);

    // Assert
    expect(check).toThrow(`the authorizer config is invalid:\n  ${REPEATED_KEY_ISSUE}`);
  });

  it('rejects text that is not JSON', () => {
    expect(() => checkAuthorizerConfig('{"issuers": [', [])).toThrow(
      /^the authorizer config is invalid:\n {2}\$: not valid JSON/,
    );
  });
});

describe('the construct', () => {
  it('prints the lint warnings with the synth', () => {
    // Arrange: the second rule can never decide.
    const config = deployConfig();
    const rules = config['rules'] as Record<string, unknown>[];
    rules[1] = { ...rules[1], claims: { scp: 'Dicom.ReadWrite' } };

    // Act
    const authorizer = buildAuthorizer(JSON.stringify(config), { account: ACCOUNT, region: REGION });

    // Assert
    Annotations.fromStack(Stack.of(authorizer)).hasWarning(
      '/TestStack/Authorizer',
      Match.stringLikeRegexp(
        '\\$\\.rules\\[1\\] \\(viewers\\): never decides: the earlier rule radiologists',
      ),
    );
  });

  it('fails synthesis on a config typo', () => {
    expect(() => buildAuthorizer(JSON.stringify(typoConfig()), { account: ACCOUNT, region: REGION })).toThrow(
      'config.json is invalid:\n  $.issuers[0].audiance: unknown key (check for a typo)',
    );
  });

  it('fails synthesis on a repeated key', () => {
    expect(() => buildAuthorizer(repeatedKeyConfigText(), { account: ACCOUNT, region: REGION })).toThrow(
      `config.json is invalid:\n  ${REPEATED_KEY_ISSUE}`,
    );
  });

  it('fails synthesis on a role from another account', () => {
    // Arrange
    const foreign = deployConfig({ roleArns: ['arn:aws:iam::444455556666:role/healthimaging/AhiReadWrite'] });

    // Act
    const build = () => buildAuthorizer(JSON.stringify(foreign), { account: ACCOUNT, region: REGION });

    // Assert
    expect(build).toThrow('$.rules[0].roleArn: rule "radiologists"');
  });

  it('checks role paths and names when the account is only known at deploy time', () => {
    // Arrange
    const wrongPath = deployConfig({ roleArns: [`arn:aws:iam::${ACCOUNT}:role/${READ_WRITE_ROLE_NAME}`] });

    // Act
    const good = () => buildAuthorizer(JSON.stringify(deployConfig()));
    const bad = () => buildAuthorizer(JSON.stringify(wrongPath));

    // Assert
    expect(good).not.toThrow();
    expect(bad).toThrow('$.rules[0].roleArn: rule "radiologists"');
  });
});

describe('the construct', () => {
  it('prints the lint warnings with the synth', () => {
    // Arrange: the second rule can never decide.
    const config = deployConfig();
    const rules = config['rules'] as Record<string, unknown>[];
    rules[1] = { ...rules[1], claims: { scp: 'Dicom.ReadWrite' } };

    // Act
    const authorizer = buildAuthorizer(JSON.stringify(config), { account: ACCOUNT, region: REGION });

    // Assert
    Annotations.fromStack(Stack.of(authorizer)).hasWarning(
      '/TestStack/Authorizer',
      Match.stringLikeRegexp(
        '\\$\\.rules\\[1\\] \\(viewers\\): never decides: the earlier rule radiologists',
      ),
    );
  });

  it('refuses to pick a datastore scope when none is given', () => {
    // Arrange
    const stack = new Stack(new App(), STACK_NAME, { env: { account: ACCOUNT, region: REGION } });

    // Act
    const build = () =>
      new HealthImagingAuthorizer(stack, 'Authorizer', { configJson: JSON.stringify(deployConfig()) });

    // Assert
    expect(build).toThrow('datastores is required: list the datastore ids the authorizer serves, or "*"');
  });
});

describe('cdk synth (infra/app.ts)', () => {
  it(
    'fails with the JSON path of a typo and exit code 1',
    () => {
      // Arrange
      const configPath = join(work, 'typo.json');
      writeFileSync(configPath, JSON.stringify(typoConfig()));

      // Act: the CDK CLI passes -c values to the app as CDK_CONTEXT_JSON.
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        cwd: REPO,
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ config: configPath, account: ACCOUNT }),
          CDK_OUTDIR: join(work, 'cdk.out'),
        },
      });

      // Assert
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        `error: ${configPath} is invalid:\n  $.issuers[0].audiance: unknown key (check for a typo)\n`,
      );
      expect(run.stderr).not.toContain('    at ');
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails with the JSON path of a repeated key and exit code 1',
    () => {
      // Arrange
      const configPath = join(work, 'repeated.json');
      writeFileSync(configPath, repeatedKeyConfigText());

      // Act
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        cwd: REPO,
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ config: configPath, account: ACCOUNT }),
          CDK_OUTDIR: join(work, 'cdk.out'),
        },
      });

      // Assert
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(REPEATED_KEY_ISSUE);
      expect(run.stderr).not.toContain('    at ');
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails on a bad deployment setting given with -c, naming the key under the settings file (relative, indented as config problems are)',
    () => {
      // Act
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        cwd: REPO,
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ memoryMb: 'lots', account: ACCOUNT }),
          CDK_OUTDIR: join(work, 'cdk.out'),
        },
      });

      // Assert
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        'error: deploy/example.settings.json with the -c overrides is invalid:\n' +
          '  -c memoryMb: expected an integer from 128 to 10240, got "lots"\n',
      );
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails on a -c key that is almost a setting (a typo), naming the setting it resembles',
    () => {
      // Act: `npx cdk synth -c memoryMB=2048` would otherwise synthesize the file's 1024 MB.
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        cwd: REPO,
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({
            'cli-telemetry': false,
            '@aws-cdk/core:enableStackNameDuplicates': true,
            settings: 'deploy/example.settings.json',
            memoryMB: '2048',
            account: ACCOUNT,
          }),
          CDK_OUTDIR: join(work, 'cdk.out'),
        },
      });

      // Assert
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('-c memoryMB: unknown setting (did you mean memoryMb?)');
      expect(run.stderr).not.toContain('    at ');
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails when the settings neither list datastores nor say "*", naming the setting',
    () => {
      // Arrange: account-wide scope must be written down, never reached by leaving the key out.
      const settingsPath = join(work, 'no-datastores.settings.json');
      writeFileSync(join(work, 'config.json'), JSON.stringify(deployConfig()));
      writeFileSync(settingsPath, JSON.stringify({ config: 'config.json' }));

      // Act
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        cwd: REPO,
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ settings: settingsPath, account: ACCOUNT }),
          CDK_OUTDIR: join(work, 'cdk.out'),
        },
      });

      // Assert
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('$.datastores: required');
      expect(run.stderr).toContain('"*" for every datastore of the account and region');
      expect(run.stderr).not.toContain('    at ');
    },
    SYNTH_TIMEOUT_MS,
  );
});

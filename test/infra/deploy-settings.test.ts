/**
 * Parsing the deployment settings file and its `-c key=value` overrides: defaults, relative paths,
 * string values from the command line, account-wide scope only when written down, and one error
 * naming every bad key by its JSON path, so a typo never deploys a default silently.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS_PATH,
  type DeployInputs,
  PLACEHOLDER_ACCOUNT,
  PLACEHOLDER_REGION,
  parseDeploySettings,
} from '../../infra/deploy-settings.ts';

const DATASTORE = '0123456789abcdef0123456789abcdef';
const OTHER_DATASTORE = 'fedcba9876543210fedcba9876543210';
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555';

function inputs(
  settings: string | Record<string, unknown>,
  context: DeployInputs['context'] = {},
  path = '/repo/deploy/site.settings.json',
): DeployInputs {
  const text = typeof settings === 'string' ? settings : JSON.stringify(settings);
  return {
    context: { settings: path, ...context },
    readFile: (file) => {
      if (file !== path) throw new Error(`ENOENT: ${file}`);
      return text;
    },
    cwd: '/repo',
    defaultEnv: {},
  };
}

describe('parseDeploySettings', () => {
  it('fills safe defaults around the keys a file must give', () => {
    // Act
    const settings = parseDeploySettings(inputs({ config: 'site.config.json', datastores: [DATASTORE] }));

    // Assert
    expect(settings).toEqual({
      stackName: 'HealthImagingAuthorizer',
      configPath: '/repo/deploy/site.config.json',
      settingsPath: '/repo/deploy/site.settings.json',
      account: PLACEHOLDER_ACCOUNT,
      region: PLACEHOLDER_REGION,
      accountIsPlaceholder: true,
      datastores: [DATASTORE],
      memoryMb: 1024,
      provisionedConcurrency: 0,
      logRetentionDays: 2192,
      denyAlarmThreshold: 100,
      createDatastore: false,
      extraRoleArns: [],
      rolePath: '/healthimaging/',
      roleNamePrefix: 'HealthImagingAuthorizer',
      roleTrustConditions: false,
      invokePrincipals: ['regional', 'global'],
      configDelivery: 'bundled',
      auditSubject: 'hash',
    });
  });

  it('reads the example settings cdk.json names by default, which synthesize as they are', () => {
    // Arrange
    const root = join(import.meta.dirname, '..', '..');
    const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };

    // Act
    const settings = parseDeploySettings({
      context: { settings: cdkJson.context['settings'] },
      readFile: (file) => readFileSync(file, 'utf8'),
      cwd: root,
      defaultEnv: {},
    });

    // Assert
    expect(cdkJson.context['settings']).toBe(DEFAULT_SETTINGS_PATH);
    expect(settings.configPath).toBe(join(root, 'deploy', 'example.config.json'));
    expect(settings.datastores).toEqual([DATASTORE]);
  });

  it('takes the account and region of the CLI credentials when the file has none', () => {
    // Arrange
    const given = {
      ...inputs({ config: 'c.json', datastores: '*' }),
      defaultEnv: { account: '444455556666', region: 'eu-west-1' },
    };

    // Act
    const settings = parseDeploySettings(given);

    // Assert
    expect(settings).toMatchObject({
      account: '444455556666',
      region: 'eu-west-1',
      accountIsPlaceholder: false,
    });
  });

  it('refuses to choose a scope by omission, naming the setting', () => {
    // Act
    const parse = () => parseDeploySettings(inputs({ config: 'c.json' }));

    // Assert
    expect(parse).toThrow(
      'deploy/site.settings.json is invalid:\n  $.datastores: required: list the datastore ids the stack serves, ' +
        'or "*" for every datastore of the account and region (an explicit choice), or set createDatastore',
    );
  });

  it('accepts account-wide scope only as the literal "*", and says how to write each mistake', () => {
    expect(parseDeploySettings(inputs({ config: 'c.json', datastores: '*' })).datastores).toBe('*');
    expect(() => parseDeploySettings(inputs({ config: 'c.json', datastores: [] }))).toThrow(
      '$.datastores: list at least one datastore id, or say "*" for every datastore of the account and region',
    );
    expect(() => parseDeploySettings(inputs({ config: 'c.json', datastores: ['*'] }))).toThrow(
      '$.datastores[0]: "*" stands alone: "datastores": "*" (every datastore of the account and region), not in a list',
    );
    expect(() => parseDeploySettings(inputs({ config: 'c.json', datastores: 'all' }))).toThrow(
      '$.datastores: a list of datastore ids, or "*" for every datastore of the account and region',
    );
  });

  it('says a required key is required, in its own words rather than the validator’s', () => {
    expect(() => parseDeploySettings(inputs({ datastores: '*' }))).toThrow(
      /is invalid:\n {2}\$\.config: required$/,
    );
  });

  it('needs no datastores when the stack creates its own', () => {
    // Act
    const settings = parseDeploySettings(inputs({ config: 'c.json', createDatastore: true }));

    // Assert
    expect(settings).toMatchObject({ createDatastore: true });
    expect(settings.datastores).toBeUndefined();
  });

  it('lets -c override one run, parsing strings as the file would hold them', () => {
    // Act
    const settings = parseDeploySettings(
      inputs(
        { config: 'site.config.json', datastores: [DATASTORE], memoryMb: 2048 },
        {
          config: 'other/config.json',
          datastores: `${DATASTORE}, ${OTHER_DATASTORE}`,
          memoryMb: '512',
          reservedConcurrency: '20',
          provisionedConcurrency: '2',
          logRetentionDays: '3653',
          roleTrustConditions: 'true',
          invokePrincipals: 'regional',
          configDelivery: 'parameter',
        },
      ),
    );

    // Assert: a config given with -c is relative to the working directory, not the file.
    expect(settings).toMatchObject({
      configPath: '/repo/other/config.json',
      datastores: [DATASTORE, OTHER_DATASTORE],
      memoryMb: 512,
      reservedConcurrency: 20,
      provisionedConcurrency: 2,
      logRetentionDays: 3653,
      roleTrustConditions: true,
      invokePrincipals: ['regional'],
      configDelivery: 'parameter',
    });
  });

  it('takes -c datastores=* as the explicit account-wide choice', () => {
    expect(parseDeploySettings(inputs({ config: 'c.json' }, { datastores: '*' })).datastores).toBe('*');
  });

  it('names a bad -c override as such, so the file is not blamed', () => {
    // Act
    const parse = () =>
      parseDeploySettings(
        inputs({ config: 'c.json', datastores: '*' }, { memoryMb: '64', createDatastore: 'yes' }),
      );

    // Assert
    expect(parse).toThrow(/^deploy\/site\.settings\.json with the -c overrides is invalid:\n {2}-c /);
    expect(parse).toThrow('-c memoryMb:');
    expect(parse).toThrow('-c createDatastore:');
  });

  it('refuses a context key that is almost a setting, so a typo is not ignored', () => {
    // Act
    const parse = (context: Record<string, unknown>) => () =>
      parseDeploySettings(inputs({ config: 'c.json', datastores: '*' }, context));

    // Assert: case aside, or an edit or two away.
    expect(parse({ memoryMB: '2048' })).toThrow(
      'with the -c overrides is invalid:\n  -c memoryMB: unknown setting (did you mean memoryMb?)',
    );
    expect(parse({ reservedConcurency: '5' })).toThrow(
      '-c reservedConcurency: unknown setting (did you mean reservedConcurrency?)',
    );
    expect(parse({ Settings: 'x.json' })).toThrow('-c Settings: unknown setting (did you mean settings?)');
  });

  it("passes CDK's own context keys and keys that are no setting's near miss", () => {
    // Arrange: what the CDK CLI and cdk.json put in the app's context.
    const context = {
      '@aws-cdk/core:newStyleStackSynthesis': true,
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:version-reporting': false,
      'availability-zones:account=111122223333:region=us-east-1': ['us-east-1a'],
      'cli-telemetry': false,
      'acknowledged-issue-numbers': [1],
      team: 'radiology',
    };

    // Act / Assert
    expect(() => parseDeploySettings(inputs({ config: 'c.json', datastores: '*' }, context))).not.toThrow();
  });

  it('derives the role name prefix from the stack name unless one is given', () => {
    expect(
      parseDeploySettings(inputs({ config: 'c.json', datastores: '*', stackName: 'AhiStaging' }))
        .roleNamePrefix,
    ).toBe('AhiStaging');
    expect(
      parseDeploySettings(
        inputs({ config: 'c.json', datastores: '*', stackName: 'AhiStaging', roleNamePrefix: 'Radiology' }),
      ).roleNamePrefix,
    ).toBe('Radiology');
  });

  it('refuses a stack name too long to prefix role names, unless a prefix is given', () => {
    // Arrange
    const stackName = `A${'x'.repeat(60)}`;

    // Act / Assert
    expect(() => parseDeploySettings(inputs({ config: 'c.json', datastores: '*', stackName }))).toThrow(
      '$.stackName: the stack name is over 50 characters: set roleNamePrefix',
    );
    expect(
      parseDeploySettings(inputs({ config: 'c.json', datastores: '*', stackName, roleNamePrefix: 'Ahi' }))
        .roleNamePrefix,
    ).toBe('Ahi');
  });

  it('rejects an unknown key, naming it', () => {
    // Act
    const parse = () => parseDeploySettings(inputs({ config: 'c.json', datastores: '*', memorySize: 2048 }));

    // Assert
    expect(parse).toThrow('$.memorySize');
  });

  it('rejects a settings file that repeats a key, naming each by its JSON path', () => {
    // Arrange: JSON.parse would keep the second datastores, widening the first to every datastore.
    const file = `{
      "config": "c.json",
      "datastores": ["${DATASTORE}"],
      "datastores": "*"
    }`;

    // Act
    const parse = () => parseDeploySettings(inputs(file));

    // Assert
    expect(parse).toThrow('$.datastores: duplicate key "datastores" (JSON keeps only the last one)');
  });

  it('says where the settings file should be when it is missing', () => {
    // Arrange
    const given = {
      ...inputs({}),
      readFile: () => {
        throw new Error('ENOENT');
      },
    };

    // Act / Assert
    expect(() => parseDeploySettings(given)).toThrow(
      'deployment settings not found: deploy/site.settings.json (pass -c settings=path/to/settings.json)',
    );
  });

  it('names every bad key in one error', () => {
    // Act
    const parse = () =>
      parseDeploySettings(
        inputs({
          config: 'c.json',
          memoryMb: 64,
          datastores: ['not-a-datastore'],
          logRetentionDays: 100,
          kmsKeyArn: 'alias/aws/logs',
        }),
      );

    // Assert
    expect(parse).toThrow('$.memoryMb: expected an integer from 128 to 10240, got 64');
    expect(parse).toThrow('$.datastores[0]: datastore ids are 32 characters of [0-9a-z]');
    expect(parse).toThrow('$.logRetentionDays: a CloudWatch Logs retention value');
    expect(parse).toThrow('$.kmsKeyArn: a KMS key ARN');
  });

  it('refuses a datastore name without createDatastore, where it would be ignored', () => {
    expect(() =>
      parseDeploySettings(inputs({ config: 'c.json', datastores: '*', datastoreName: 'orphan' })),
    ).toThrow('$.datastoreName: only used with createDatastore: true');
  });

  it('refuses provisioned concurrency above the reserved cap', () => {
    expect(() =>
      parseDeploySettings(
        inputs({ config: 'c.json', datastores: '*', reservedConcurrency: 10, provisionedConcurrency: 20 }),
      ),
    ).toThrow('$.provisionedConcurrency: cannot exceed reservedConcurrency (10)');
  });

  it('passes the timing settings through when they keep every answer inside the second', () => {
    // Act
    const settings = parseDeploySettings(
      inputs({
        config: 'c.json',
        datastores: '*',
        budgetMs: 700,
        initBudgetMs: 300,
        provisionedInitBudgetMs: 8000,
      }),
    );

    // Assert
    expect(settings).toMatchObject({ budgetMs: 700, initBudgetMs: 300, provisionedInitBudgetMs: 8000 });
  });

  it.each([
    [
      'a budget that outruns the second',
      { budgetMs: 2000 },
      /AUTHORIZER_BUDGET_MS="2000" refused: expected an integer from 50 to 900/,
    ],
    [
      'an on-demand init that leaves a request under 50 ms',
      { budgetMs: 600, initBudgetMs: 560 },
      /AUTHORIZER_INIT_BUDGET_MS="560" refused: expected an integer from 0 to 550/,
    ],
    ['a provisioned init past Lambda init phase', { provisionedInitBudgetMs: 10_000 }, /from 0 to 9000/],
  ])('refuses %s, naming the setting and its range', (_name, timing, message) => {
    expect(() => parseDeploySettings(inputs({ config: 'c.json', datastores: '*', ...timing }))).toThrow(
      message,
    );
  });

  it('passes the created datastore its KMS key, lossless storage format and tags', () => {
    // The optional CreateDatastore parameters:
    // https://docs.aws.amazon.com/healthimaging/latest/APIReference/API_CreateDatastore.html
    // Act
    const settings = parseDeploySettings(
      inputs({
        config: 'c.json',
        createDatastore: true,
        datastoreKmsKeyArn: KEY_ARN,
        datastoreLosslessStorageFormat: 'HTJ2K',
        datastoreTags: { CostCenter: 'radiology', 'hospital:site': 'north' },
      }),
    );

    // Assert
    expect(settings).toMatchObject({
      createDatastore: true,
      datastoreKmsKeyArn: KEY_ARN,
      datastoreLosslessStorageFormat: 'HTJ2K',
      datastoreTags: { CostCenter: 'radiology', 'hospital:site': 'north' },
    });
  });

  it('reads datastore tags from -c as key=value pairs or as JSON text', () => {
    // Arrange
    const file = { config: 'c.json', createDatastore: true };

    // Act
    const pairs = parseDeploySettings(
      inputs(file, { datastoreTags: 'CostCenter=radiology, Owner=pacs team,Empty=' }),
    );
    const json = parseDeploySettings(inputs(file, { datastoreTags: '{"CostCenter": "radiology, imaging"}' }));

    // Assert
    expect(pairs.datastoreTags).toEqual({ CostCenter: 'radiology', Owner: 'pacs team', Empty: '' });
    expect(json.datastoreTags).toEqual({ CostCenter: 'radiology, imaging' });
  });

  it('names every datastore option CreateDatastore would refuse', () => {
    // Limits of the CreateDatastore API (tag keys 1-128 characters, not "aws:", values up to 256):
    // https://docs.aws.amazon.com/healthimaging/latest/APIReference/API_CreateDatastore.html
    // Act
    const parse = () =>
      parseDeploySettings(
        inputs({
          config: 'c.json',
          createDatastore: true,
          datastoreKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/pacs',
          datastoreLosslessStorageFormat: 'JPEG',
          datastoreTags: { 'aws:owner': 'pacs', ['k'.repeat(129)]: 'v', Note: 'x'.repeat(257) },
        }),
      );

    // Assert
    expect(parse).toThrow('$.datastoreKmsKeyArn: expected a KMS key ARN');
    expect(parse).toThrow(
      '$.datastoreLosslessStorageFormat: expected one of HTJ2K, JPEG_2000_LOSSLESS, got "JPEG"',
    );
    expect(parse).toThrow('$.datastoreTags: key "aws:owner" must be 1-128 characters');
    expect(parse).toThrow(`$.datastoreTags: key "${'k'.repeat(129)}" must be 1-128 characters`);
    expect(parse).toThrow('$.datastoreTags: the value of "Note" must be a string of at most 256 characters');
  });

  it.each([
    ['a pair without "="', 'CostCenter', /-c datastoreTags: expected key=value, got "CostCenter"/],
    ['a key given twice', 'a=1,a=2', /-c datastoreTags: the key "a" is given twice/],
    ['JSON with a repeated key', '{"a": "1", "a": "2"}', /-c datastoreTags: duplicate key "a"/],
    ['a JSON array', '["a"]', /-c datastoreTags: expected a JSON object or key=value/],
  ])('refuses -c datastore tags with %s', (_name, datastoreTags, message) => {
    expect(() =>
      parseDeploySettings(inputs({ config: 'c.json', createDatastore: true }, { datastoreTags })),
    ).toThrow(message);
  });

  it('refuses datastore options without createDatastore, as it does the name', () => {
    // Act
    const parse = () =>
      parseDeploySettings(
        inputs({ config: 'c.json', datastores: '*', datastoreKmsKeyArn: KEY_ARN, datastoreTags: { a: 'b' } }),
      );

    // Assert
    expect(parse).toThrow('$.datastoreKmsKeyArn: only used with createDatastore: true');
    expect(parse).toThrow('$.datastoreTags: only used with createDatastore: true');
  });
});

/**
 * Parsing the deployment props from CDK context and the props file: defaults, string values from
 * `-c key=value`, JSON values from a file, context winning over the file, and one error naming every
 * bad key, so a typo never deploys a default silently.
 */

import { describe, expect, it } from 'vitest';
import {
  type DeployInputs,
  PLACEHOLDER_ACCOUNT,
  PLACEHOLDER_REGION,
  parseDeployProps,
} from '../../infra/deploy-props.ts';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555';

function inputs(context: DeployInputs['context'], files: Record<string, string> = {}): DeployInputs {
  return {
    context,
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
    cwd: '/repo',
    defaultEnv: {},
  };
}

describe('parseDeployProps', () => {
  it('uses safe defaults and the example config when nothing is given', () => {
    // Act
    const props = parseDeployProps(inputs({}));

    // Assert
    expect(props).toEqual({
      stackName: 'HealthImagingAuthorizer',
      configPath: '/repo/examples/deploy.config.json',
      account: PLACEHOLDER_ACCOUNT,
      region: PLACEHOLDER_REGION,
      accountIsPlaceholder: true,
      datastoreIds: [],
      memoryMb: 1024,
      reservedConcurrency: 100,
      provisionedConcurrency: 0,
      logRetention: 2192,
      createDatastore: false,
      extraRoleArns: [],
      rolePath: '/healthimaging/',
      roleTrustConditions: false,
      invokePrincipals: ['regional', 'global'],
      denyAlarmThreshold: 100,
    });
  });

  it('takes the account and region of the CLI credentials when context has none', () => {
    // Arrange
    const given = { ...inputs({}), defaultEnv: { account: '444455556666', region: 'eu-west-1' } };

    // Act
    const props = parseDeployProps(given);

    // Assert
    expect(props).toMatchObject({
      account: '444455556666',
      region: 'eu-west-1',
      accountIsPlaceholder: false,
    });
  });

  it('parses -c strings: numbers, booleans and comma-separated lists', () => {
    // Act
    const props = parseDeployProps(
      inputs({
        config: 'my/config.json',
        datastoreIds: '0123456789abcdef0123456789abcdef, fedcba9876543210fedcba9876543210',
        memoryMb: '512',
        reservedConcurrency: '20',
        provisionedConcurrency: '2',
        logRetentionDays: '3653',
        createDatastore: 'true',
        roleTrustConditions: 'true',
        invokePrincipals: 'regional',
      }),
    );

    // Assert
    expect(props).toMatchObject({
      configPath: '/repo/my/config.json',
      datastoreIds: ['0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'],
      memoryMb: 512,
      reservedConcurrency: 20,
      provisionedConcurrency: 2,
      logRetention: 3653,
      createDatastore: true,
      datastoreName: 'HealthImagingAuthorizer-datastore',
      roleTrustConditions: true,
      invokePrincipals: ['regional'],
    });
  });

  it('reads a props file, resolving its config path next to it, and lets context win', () => {
    // Arrange
    const file = JSON.stringify({
      config: 'prod.json',
      memoryMb: 2048,
      reservedConcurrency: 300,
      createDatastore: true,
    });

    // Act
    const props = parseDeployProps(
      inputs({ props: 'deploy/prod.props.json', memoryMb: '1536' }, { '/repo/deploy/prod.props.json': file }),
    );

    // Assert
    expect(props).toMatchObject({
      configPath: '/repo/deploy/prod.json',
      memoryMb: 1536,
      reservedConcurrency: 300,
      createDatastore: true,
    });
  });

  it('rejects an unknown key in the props file', () => {
    // Arrange
    const file = JSON.stringify({ memorySize: 2048 });

    // Act
    const parse = () => parseDeployProps(inputs({ props: '/p.json' }, { '/p.json': file }));

    // Assert
    expect(parse).toThrow('props: /p.json: unknown key "memorySize" (check for a typo)');
  });

  it('rejects a props file that repeats a key, naming each by its JSON path', () => {
    // Arrange: JSON.parse would keep the second extraRoleArns, allowing a role the first does not list.
    const file = `{
      "extraRoleArns": ["arn:aws:iam::111122223333:role/AhiAudit"],
      "memoryMb": 512,
      "extraRoleArns": ["arn:aws:iam::111122223333:role/Admin"],
      "memoryMb": 2048
    }`;

    // Act
    const parse = () => parseDeployProps(inputs({ props: '/p.json' }, { '/p.json': file }));

    // Assert
    expect(parse).toThrow(
      [
        'invalid deployment props:',
        '  props: /p.json: $.extraRoleArns: duplicate key "extraRoleArns" (JSON keeps only the last one)',
        '  props: /p.json: $.memoryMb: duplicate key "memoryMb" (JSON keeps only the last one)',
      ].join('\n'),
    );
  });

  it('names every bad key in one error', () => {
    // Act
    const parse = () =>
      parseDeployProps(
        inputs({
          memoryMb: '64',
          datastoreIds: 'not-a-datastore',
          logRetentionDays: '100',
          createDatastore: 'yes',
          kmsKeyArn: 'alias/aws/logs',
        }),
      );

    // Assert
    expect(parse).toThrow(
      [
        'invalid deployment props:',
        '  memoryMb: expected an integer from 128 to 10240, got "64"',
        '  logRetentionDays: 100 is not a CloudWatch Logs retention;',
      ].join('\n'),
    );
    expect(parse).toThrow(
      'datastoreIds: expected datastore ids (32 characters of [0-9a-z]), got "not-a-datastore"',
    );
    expect(parse).toThrow('createDatastore: expected true or false, got "yes"');
    expect(parse).toThrow('kmsKeyArn: expected a KMS key ARN');
  });

  it('passes the created datastore its KMS key, lossless storage format and key=value tags', () => {
    // The optional CreateDatastore parameters:
    // https://docs.aws.amazon.com/healthimaging/latest/APIReference/API_CreateDatastore.html
    // Act
    const props = parseDeployProps(
      inputs({
        createDatastore: 'true',
        datastoreKmsKeyArn: KEY_ARN,
        datastoreLosslessStorageFormat: 'HTJ2K',
        datastoreTags: 'CostCenter=radiology, Owner=pacs team,Empty=',
      }),
    );

    // Assert
    expect(props).toMatchObject({
      createDatastore: true,
      datastoreKmsKeyArn: KEY_ARN,
      datastoreLosslessStorageFormat: 'HTJ2K',
      datastoreTags: { CostCenter: 'radiology', Owner: 'pacs team', Empty: '' },
    });
  });

  it('reads datastore tags as JSON text from -c and as an object from the props file', () => {
    // Arrange
    const file = JSON.stringify({ createDatastore: true, datastoreTags: { 'hospital:site': 'north' } });

    // Act
    const fromContext = parseDeployProps(
      inputs({ createDatastore: 'true', datastoreTags: '{"CostCenter": "radiology, imaging"}' }),
    );
    const fromFile = parseDeployProps(inputs({ props: '/p.json' }, { '/p.json': file }));

    // Assert
    expect(fromContext.datastoreTags).toEqual({ CostCenter: 'radiology, imaging' });
    expect(fromFile.datastoreTags).toEqual({ 'hospital:site': 'north' });
  });

  it('names every datastore option CreateDatastore would refuse', () => {
    // Limits of the CreateDatastore API (tag keys 1-128 characters, not "aws:", values up to 256):
    // https://docs.aws.amazon.com/healthimaging/latest/APIReference/API_CreateDatastore.html
    // Act
    const parse = () =>
      parseDeployProps(
        inputs({
          createDatastore: 'true',
          datastoreKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/pacs',
          datastoreLosslessStorageFormat: 'JPEG',
          datastoreTags: JSON.stringify({
            'aws:owner': 'pacs',
            ['k'.repeat(129)]: 'v',
            Note: 'x'.repeat(257),
          }),
        }),
      );

    // Assert
    expect(parse).toThrow('datastoreKmsKeyArn: expected a KMS key ARN');
    expect(parse).toThrow(
      'datastoreLosslessStorageFormat: expected one of HTJ2K, JPEG_2000_LOSSLESS, got "JPEG"',
    );
    expect(parse).toThrow('datastoreTags: key "aws:owner" must be 1-128 characters');
    expect(parse).toThrow(`datastoreTags: key "${'k'.repeat(129)}" must be 1-128 characters`);
    expect(parse).toThrow('datastoreTags: the value of "Note" must be a string of at most 256 characters');
  });

  it.each([
    ['a pair without "="', 'CostCenter', /datastoreTags: expected key=value, got "CostCenter"/],
    ['a key given twice', 'a=1,a=2', /datastoreTags: the key "a" is given twice/],
    ['JSON with a repeated key', '{"a": "1", "a": "2"}', /datastoreTags: duplicate key "a"/],
    ['a JSON array', '["a"]', /datastoreTags: expected a JSON object or key=value/],
  ])('refuses datastore tags with %s', (_name, datastoreTags, message) => {
    expect(() => parseDeployProps(inputs({ createDatastore: 'true', datastoreTags }))).toThrow(message);
  });

  it('refuses datastore options without createDatastore, as it does the name', () => {
    // Act
    const parse = () =>
      parseDeployProps(inputs({ datastoreKmsKeyArn: KEY_ARN, datastoreTags: 'CostCenter=radiology' }));

    // Assert
    expect(parse).toThrow('datastoreKmsKeyArn: only used with createDatastore=true');
    expect(parse).toThrow('datastoreTags: only used with createDatastore=true');
  });

  it('refuses provisioned concurrency above the reserved cap', () => {
    expect(() =>
      parseDeployProps(inputs({ reservedConcurrency: '10', provisionedConcurrency: '20' })),
    ).toThrow('provisionedConcurrency (20) cannot exceed reservedConcurrency (10)');
  });

  it('passes the timing settings through when they keep every answer inside the second', () => {
    // Act
    const props = parseDeployProps(
      inputs({ budgetMs: '700', initBudgetMs: '300', provisionedInitBudgetMs: '8000' }),
    );

    // Assert
    expect(props).toMatchObject({ budgetMs: 700, initBudgetMs: 300, provisionedInitBudgetMs: 8000 });
  });

  it.each([
    [
      'a budget that outruns the second',
      { budgetMs: '2000' },
      /AUTHORIZER_BUDGET_MS="2000" refused: expected an integer from 50 to 900/,
    ],
    [
      'an on-demand init that leaves a request under 50 ms',
      { budgetMs: '600', initBudgetMs: '560' },
      /AUTHORIZER_INIT_BUDGET_MS="560" refused: expected an integer from 0 to 550/,
    ],
    ['a provisioned init past Lambda init phase', { provisionedInitBudgetMs: '10000' }, /from 0 to 9000/],
    ['a budget that is not a number', { budgetMs: 'fast' }, /AUTHORIZER_BUDGET_MS="fast" refused/],
  ])('refuses %s, naming the setting and its range', (_name, context, message) => {
    // Act / Assert
    expect(() => parseDeployProps(inputs(context))).toThrow(message);
  });
});

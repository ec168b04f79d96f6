/**
 * The deployment with its options set: known datastore ids (exact ARNs, no wildcard, an endpoint output
 * each), the config in SSM, provisioned concurrency, source conditions on role trust, an alarm topic,
 * an existing KMS key, an extra role and one invoke principal; and the nag harness catching a wildcard.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fn, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, Role, ServicePrincipal, ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nagPacks } from '../../infra/add-nag-checks.ts';
import {
  ACCOUNT,
  allPolicyStatements,
  asArray,
  deployConfig,
  logicalIdsOf,
  dicomWebOutputs,
  READ_ONLY_ROLE,
  READ_WRITE_ROLE,
  REGION,
  STACK_NAME,
  type SynthResult,
  SYNTH_TIMEOUT_MS,
  synthStack,
  READ_ONLY_ROLE_NAME,
  READ_WRITE_ROLE_NAME,
} from '../support/synth-stack.ts';
import { match } from '../support/matchers.ts';

const DATASTORES = ['0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'];
const DATASTORE_ARNS = DATASTORES.map((id) => `arn:aws:medical-imaging:${REGION}:${ACCOUNT}:datastore/${id}`);
const EXTRA_ROLE = `arn:aws:iam::${ACCOUNT}:role/imaging/ExistingPacsRole`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ahi-alarms`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const PARAMETER_NAME = `/healthimaging-authorizer/${STACK_NAME}/Authorizer/config`;

let result: SynthResult;

beforeAll(() => {
  result = synthStack(
    {
      configJson: JSON.stringify(deployConfig({ roleArns: [READ_WRITE_ROLE, EXTRA_ROLE] })),
      datastores: DATASTORES,
      configDelivery: 'parameter',
      provisionedConcurrency: 5,
      reservedConcurrency: 50,
      memorySize: 512,
      roleTrustConditions: true,
      additionalRoleArns: [EXTRA_ROLE],
      invokePrincipals: ['regional'],
      denyAlarmThreshold: 25,
      budgetMs: 700,
      provisionedInitBudgetMs: 8000,
    },
    { alarmTopicArn: TOPIC_ARN, kmsKeyArn: KEY_ARN },
  );
}, SYNTH_TIMEOUT_MS);
afterAll(() => result.cleanup());

describe('with datastore ids', () => {
  it('grants invoke per datastore ARN, to the configured principal only', () => {
    // Act
    const grants = Object.values(result.template.findResources('AWS::Lambda::Permission')).map(
      (permission) => permission['Properties'] as Record<string, unknown>,
    );

    // Assert
    expect(grants.map((grant) => grant['SourceArn']).sort()).toEqual([...DATASTORE_ARNS].sort());
    for (const grant of grants) {
      expect(grant).toMatchObject({
        Principal: `medical-imaging.${REGION}.amazonaws.com`,
        SourceAccount: ACCOUNT,
        Action: 'lambda:InvokeFunction',
      });
    }
  });

  it('scopes every medical-imaging statement to the exact datastore ARNs, with no wildcard', () => {
    // Act
    const statements = allPolicyStatements(result).filter((statement) =>
      asArray(statement['Action']).some((action) => String(action).startsWith('medical-imaging:')),
    );

    // Assert
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) expect(statement['Resource']).toEqual(DATASTORE_ARNS);
  });
});

describe('with the config in an SSM parameter', () => {
  it('holds the validated config, minified, under a name of this stack', () => {
    result.template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: PARAMETER_NAME,
      Type: 'String',
      Value: JSON.stringify(deployConfig({ roleArns: [READ_WRITE_ROLE, EXTRA_ROLE] })),
      Tier: 'Standard',
    });
  });

  it('lets the function read exactly that parameter, and ships no config in the code', () => {
    // Arrange
    const [fnId] = logicalIdsOf(result, 'AWS::Lambda::Function').filter((id) => id.startsWith('Authorizer'));

    // Act
    const statements = allPolicyStatements(result).filter((statement) =>
      asArray(statement['Action']).some((action) => String(action).startsWith('ssm:')),
    );

    // Assert
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PARAMETER_NAME}`,
      },
    ]);
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ AUTHORIZER_CONFIG_PARAMETER: { Ref: Match.anyValue() } }),
      },
    });
    expect(result.assetFiles(fnId!)).not.toContain('authorizer-config.json');
  });

  it('records and alarms on a write to the parameter that CloudFormation did not make', () => {
    result.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.ssm'],
        detail: Match.objectLike({
          $or: [
            { requestParameters: { name: [{ suffix: PARAMETER_NAME.slice(1) }] } },
            { requestParameters: { names: [{ suffix: PARAMETER_NAME.slice(1) }] } },
          ],
        }),
      }),
    });
  });
});

describe('the DICOMweb endpoint outputs', () => {
  // The developer guide's form: https://dicom-medical-imaging.<region>.amazonaws.com/datastore/<id>/studies
  // (https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-search-studies.html).
  it('publish one base URL per given datastore id, in an output named after the id', () => {
    // Arrange
    const outputs = dicomWebOutputs(result);

    // Assert
    expect(Object.keys(outputs).sort()).toEqual(DATASTORES.map((id) => `DicomWebEndpoint${id}`).sort());
    for (const id of DATASTORES) {
      expect(outputs[`DicomWebEndpoint${id}`]).toEqual({
        Value: `https://dicom-medical-imaging.${REGION}.amazonaws.com/datastore/${id}`,
        Description: match.stringContaining(`DICOMweb base URL of datastore ${id}`),
      });
    }
  });

  it('number an id known only at deploy time by its position, and keep the URL a template expression', () => {
    // Arrange
    const imported = synthStack({ datastores: [Fn.importValue('ImagingDatastoreId')] });
    try {
      // Act
      const outputs = dicomWebOutputs(imported);

      // Assert
      expect(outputs).toEqual({
        DicomWebEndpoint0: {
          Value: {
            'Fn::Join': [
              '',
              [
                `https://dicom-medical-imaging.${REGION}.amazonaws.com/datastore/`,
                { 'Fn::ImportValue': 'ImagingDatastoreId' },
              ],
            ],
          },
          Description: match.stringContaining('DICOMweb base URL of datastore datastores[0]'),
        },
      });
    } finally {
      imported.cleanup();
    }
  });
});

describe('with options', () => {
  it('puts provisioned concurrency on the alias and alarms when requests spill over', () => {
    result.template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 5 },
    });
    result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProvisionedConcurrencySpilloverInvocations',
    });
  });

  it('creates exactly the alarms docs/operations.md "Alarms" lists (every option on, so every alarm)', () => {
    // Arrange
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const section = doc.slice(doc.indexOf('\n## Alarms\n'));
    const documented = [...section.matchAll(/^\| `(\w+)` +\|/gm)].map((row) => row[1]!);

    // Act
    const created = result.stack.node
      .findAll()
      .filter((construct) => construct instanceof Alarm)
      .map((alarm) => alarm.node.id);

    // Assert
    expect(section).toMatch(/^\n## Alarms\n/);
    expect(created.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual([...created].sort());
  });

  it('gives the function the timing settings, and no others', () => {
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectEquals({
          AUTHORIZER_CONFIG_PARAMETER: Match.anyValue(),
          AUTHORIZER_ALLOWED_ROLE_ARNS: Match.anyValue(),
          AUTHORIZER_BUDGET_MS: '700',
          AUTHORIZER_PROVISIONED_INIT_BUDGET_MS: '8000',
          AUTHORIZER_AUDIT_SUBJECT: 'hash',
          AUTHORIZER_AUDIT_HASH_KEY: Match.anyValue(),
        }),
      },
    });
  });

  it('logs subjects as is and creates no hash key when asked for the plain mode', () => {
    const plain = synthStack({ auditSubject: 'plain' });
    try {
      plain.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      plain.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ AUTHORIZER_AUDIT_SUBJECT: 'plain' }) },
      });
    } finally {
      plain.cleanup();
    }
  });

  it('fails synth on an init budget that would outrun the second, naming the setting', () => {
    expect(() => synthStack({ budgetMs: 800, initBudgetMs: 790 })).toThrow(
      /AUTHORIZER_INIT_BUDGET_MS="790" refused: expected an integer from 0 to 750/,
    );
  });

  it('uses the given memory and reserved concurrency', () => {
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      ReservedConcurrentExecutions: 50,
    });
  });

  it('fails synth when extra roles would push the environment over Lambda’s 4 KB', () => {
    // Arrange: 50 ARNs of about 85 characters each.
    const many = Array.from(
      { length: 50 },
      (_, index) =>
        `arn:aws:iam::${ACCOUNT}:role/imaging/department-${index}/ExistingPacsRoleWithALongerName${index}`,
    );

    // Act / Assert
    expect(() => synthStack({ additionalRoleArns: many })).toThrow(
      /the function's environment would take up to \d+ bytes, over Lambda's 4096: AUTHORIZER_ALLOWED_ROLE_ARNS holds 52 role ARNs; list fewer in extraRoleArns/,
    );
  });

  it('requires SourceAccount and SourceArn on the roles’ trust when asked', () => {
    for (const roleName of [READ_ONLY_ROLE_NAME, READ_WRITE_ROLE_NAME]) {
      result.template.hasResourceProperties('AWS::IAM::Role', {
        RoleName: roleName,
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { Service: 'medical-imaging.amazonaws.com' },
              Condition: {
                StringEquals: { 'aws:SourceAccount': ACCOUNT },
                ArnLike: { 'aws:SourceArn': DATASTORE_ARNS },
              },
            },
          ],
        },
      });
    }
  });

  it('adds the extra role to the allowlist the function enforces', () => {
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          AUTHORIZER_ALLOWED_ROLE_ARNS: `${READ_ONLY_ROLE},${READ_WRITE_ROLE},${EXTRA_ROLE}`,
        }),
      },
    });
  });

  it('sends every alarm to the topic', () => {
    // Arrange
    const alarms = Object.values(result.template.findResources('AWS::CloudWatch::Alarm'));

    // Assert
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    for (const alarm of alarms) {
      expect((alarm['Properties'] as Record<string, unknown>)['AlarmActions']).toEqual([TOPIC_ARN]);
    }
    result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [
        { Name: 'decision', Value: 'deny' },
        { Name: 'function', Value: { Ref: Match.stringLikeRegexp('^AuthorizerFunction') } },
      ],
      Threshold: 25,
    });
  });

  it('encrypts the audit log with the given key and creates none', () => {
    result.template.resourceCountIs('AWS::KMS::Key', 0);
    result.template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: KEY_ARN });
  });

  it('stays cdk-nag clean', () => {
    expect(result.nagFindings).toEqual([]);
  });
});

describe('the nag harness', () => {
  it('reports a wildcard policy that nobody acknowledged', () => {
    // Arrange
    const stack = new Stack(result.app, 'Careless', { env: { account: ACCOUNT, region: REGION } });
    new Role(stack, 'Admin', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [
        new ManagedPolicy(stack, 'Everything', {
          statements: [new PolicyStatement({ actions: ['s3:*'], resources: ['*'] })],
        }),
      ],
    });

    // Act
    const rules = nagPacks(result.app).flatMap((pack) =>
      pack.validateScope(stack).violations.map((violation) => violation.ruleName),
    );

    // Assert
    expect(rules).toContain('AwsSolutions-IAM5[Resource::*]');
  });
});

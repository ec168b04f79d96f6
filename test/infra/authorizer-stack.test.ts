/**
 * The security properties of the default deployment (no datastore id yet, no topic, no key given),
 * asserted on the synthesized template (docs/deployment.md): who may invoke, what the DICOMweb
 * roles and the execution role may do, the function's runtime and limits, the config parameter, the
 * audit log, the alarms, the asset contents, and that cdk-nag finds nothing unacknowledged.
 */

import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_ACTIONS, READ_WRITE_ACTIONS } from '../../infra/dicomweb-roles.ts';
import {
  ACCOUNT,
  allPolicyStatements,
  asArray,
  deployConfig,
  logicalIdsOf,
  READ_ONLY_ROLE,
  READ_WRITE_ROLE,
  REGION,
  type SynthResult,
  SYNTH_TIMEOUT_MS,
  synthStack,
  READ_ONLY_ROLE_NAME,
  READ_WRITE_ROLE_NAME,
  roleManagedPolicyStatements,
} from '../support/synth-stack.ts';

const ANY_DATASTORE = `arn:aws:medical-imaging:${REGION}:${ACCOUNT}:datastore/*`;
/** `/healthimaging-authorizer/<stack>/<construct>/audit-<first 8 hex digits of the stack's UUID>`. */
const LOG_GROUP_NAME = {
  'Fn::Join': [
    '',
    [
      '/healthimaging-authorizer/TestStack/Authorizer/audit-',
      {
        'Fn::Select': [
          0,
          { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
        ],
      },
    ],
  ],
};

let result: SynthResult;

beforeAll(() => {
  result = synthStack();
}, SYNTH_TIMEOUT_MS);
afterAll(() => result.cleanup());

function functionLogicalId(): string {
  const [id] = logicalIdsOf(result, 'AWS::Lambda::Function');
  return id!;
}

function aliasLogicalId(): string {
  const [id] = logicalIdsOf(result, 'AWS::Lambda::Alias');
  return id!;
}

function roleByName(roleName: string): Record<string, unknown> {
  const roles = result.template.findResources('AWS::IAM::Role', { Properties: { RoleName: roleName } });
  const [role] = Object.values(roles);
  return role!['Properties'] as Record<string, unknown>;
}

function managedPolicyStatements(ref: unknown): Record<string, unknown>[] {
  const id = (ref as { Ref: string }).Ref;
  const policy = result.json.Resources[id]!;
  return (policy.Properties!['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement;
}

describe('the authorizer function', () => {
  it('runs the esbuild bundle on arm64 with Node.js 24, the runtime the bundle targets', () => {
    // Arrange
    const fn = result.json.Resources[functionLogicalId()]!.Properties!;

    // Act
    const major = Number(/^nodejs(\d+)\.x$/.exec(String(fn['Runtime']))?.[1]);

    // Assert
    expect(major).toBe(24);
    expect(fn['Architectures']).toEqual(['arm64']);
    expect(fn['Handler']).toBe('handler.handler');
  });

  it('sets memory and a timeout a little above the 800 ms budget, and reserves no concurrency unless asked', () => {
    // Reserving any concurrency fails the deploy in an account whose limit leaves no room for it:
    // https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Timeout: 3,
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('reads the config shipped in its own code, and gets the role allowlist from the stack', () => {
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          AUTHORIZER_CONFIG_FILE: '/var/task/authorizer-config.json',
          AUTHORIZER_CONFIG_PARAMETER: Match.absent(),
          AUTHORIZER_ALLOWED_ROLE_ARNS: `${READ_ONLY_ROLE},${READ_WRITE_ROLE}`,
        },
      },
    });
    result.template.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  it('gets the audit hash key as a Secrets Manager dynamic reference, never as a value in the template', () => {
    // Arrange
    const [secretId] = logicalIdsOf(result, 'AWS::SecretsManager::Secret');
    const fn = result.json.Resources[functionLogicalId()]!;
    const variables = (fn.Properties!['Environment'] as { Variables: Record<string, unknown> }).Variables;

    // Assert
    expect(variables['AUTHORIZER_AUDIT_SUBJECT']).toBe('hash');
    expect(JSON.stringify(variables['AUTHORIZER_AUDIT_HASH_KEY'])).toMatch(/\{\{resolve:secretsmanager:/);
    expect(JSON.stringify(variables['AUTHORIZER_AUDIT_HASH_KEY'])).toContain(secretId!);
  });

  it('generates the audit hash key in Secrets Manager, encrypted with the audit log key, kept on deletion but not after a failed create', () => {
    // Arrange
    const [keyId] = logicalIdsOf(result, 'AWS::KMS::Key');
    const [secretId] = logicalIdsOf(result, 'AWS::SecretsManager::Secret');
    const secret = result.json.Resources[secretId!]!;

    // Assert
    expect(secret.Properties).toMatchObject({
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    expect(secret).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
  });

  it('ships handler.mjs, its chunks and the validated config, minified, in its asset', () => {
    // Act
    const files = result.assetFiles(functionLogicalId());
    const config = result.assetFile(functionLogicalId(), 'authorizer-config.json');

    // Assert
    expect(files).toContain('handler.mjs');
    expect(
      files.filter(
        (file) => !['handler.mjs', 'authorizer-config.json'].includes(file) && !file.startsWith('chunks/'),
      ),
    ).toEqual([]);
    expect(config).toBe(JSON.stringify(deployConfig()));
  });

  it('keeps superseded versions, so the alias can be moved back to one', () => {
    // Rolling back is `aws lambda update-alias --function-version N`; CDK deletes a replaced
    // AWS::Lambda::Version unless it is retained.
    result.template.hasResource('AWS::Lambda::Version', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('sits behind the alias `live`, whose ARN is the LambdaAuthorizerArn output', () => {
    result.template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live' });
    result.template.hasOutput('LambdaAuthorizerArn', { Value: { Ref: aliasLogicalId() } });
  });

  it('has no provisioned concurrency unless asked (a cost the operator chooses)', () => {
    result.template.hasResourceProperties('AWS::Lambda::Alias', {
      ProvisionedConcurrencyConfig: Match.absent(),
    });
  });

  it('has no function URL and no event source', () => {
    result.template.resourceCountIs('AWS::Lambda::Url', 0);
    result.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });
});

describe('the invoke permission', () => {
  it('lets only the HealthImaging principals invoke, only the alias, with SourceAccount and SourceArn', () => {
    // Arrange
    const permissions = Object.values(result.template.findResources('AWS::Lambda::Permission'));

    // Act
    const grants = permissions.map((permission) => permission['Properties'] as Record<string, unknown>);

    // Assert
    expect(grants.map((grant) => grant['Principal']).sort()).toEqual([
      'medical-imaging.amazonaws.com',
      `medical-imaging.${REGION}.amazonaws.com`,
    ]);
    for (const grant of grants) {
      expect(grant).toEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: { Ref: aliasLogicalId() },
        Principal: grant['Principal'],
        SourceAccount: ACCOUNT,
        SourceArn: ANY_DATASTORE,
      });
    }
  });
});

describe('the DICOMweb roles', () => {
  it.each([
    [READ_ONLY_ROLE_NAME, READ_ACTIONS],
    [READ_WRITE_ROLE_NAME, READ_WRITE_ACTIONS],
  ])('%s may run exactly its DICOMweb actions, on datastore ARNs only', (roleName, actions) => {
    // Arrange
    const [roleId] = Object.keys(
      result.template.findResources('AWS::IAM::Role', { Properties: { RoleName: roleName } }),
    );

    // Act
    const statements = roleManagedPolicyStatements(result, roleId!);

    // Assert
    expect(statements).toEqual([{ Effect: 'Allow', Action: [...actions], Resource: ANY_DATASTORE }]);
    expect(roleByName(roleName)['Policies']).toBeUndefined();
  });

  it.each([READ_ONLY_ROLE_NAME, READ_WRITE_ROLE_NAME])(
    '%s is trusted by medical-imaging.amazonaws.com only, without source conditions by default',
    (roleName) => {
      expect(roleByName(roleName)['AssumeRolePolicyDocument']).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'medical-imaging.amazonaws.com' },
          },
        ],
      });
    },
  );

  it.each([READ_ONLY_ROLE_NAME, READ_WRITE_ROLE_NAME])(
    '%s has a deterministic name under /healthimaging/, a one-hour session and a DICOMweb boundary',
    (roleName) => {
      // Arrange
      const role = roleByName(roleName);

      // Act
      const boundary = managedPolicyStatements(role['PermissionsBoundary']);

      // Assert
      expect(role['Path']).toBe('/healthimaging/');
      expect(role['MaxSessionDuration']).toBe(3600);
      expect(boundary).toEqual([
        { Effect: 'Allow', Action: [...READ_WRITE_ACTIONS], Resource: ANY_DATASTORE },
      ]);
    },
  );

  it('publishes the role ARNs a config file names', () => {
    result.template.hasOutput('ReadOnlyRoleArn', { Value: READ_ONLY_ROLE });
    result.template.hasOutput('ReadWriteRoleArn', { Value: READ_WRITE_ROLE });
  });
});

describe('IAM across the stack', () => {
  it('never allows an action or a resource that is just "*"', () => {
    // Act
    const statements = allPolicyStatements(result);

    // Assert
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(asArray(statement['Resource'])).not.toContain('*');
      for (const action of asArray(statement['Action'])) expect(String(action)).not.toContain('*');
    }
  });

  it('uses no inline policies and no AWS managed policies', () => {
    // Arrange
    const roles = Object.values(result.template.findResources('AWS::IAM::Role'));

    // Act
    const managed = roles.flatMap((role) =>
      asArray((role['Properties'] as Record<string, unknown>)['ManagedPolicyArns']),
    );

    // Assert
    result.template.resourceCountIs('AWS::IAM::Policy', 0);
    expect(managed.every((arn) => typeof arn === 'object' && 'Ref' in (arn as object))).toBe(true);
  });

  it('lets the function write its own log group, nothing else', () => {
    // Arrange
    const fn = result.json.Resources[functionLogicalId()]!.Properties!;
    const roleId = (fn['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = result.json.Resources[roleId]!.Properties!;
    const [logGroupId] = logicalIdsOf(result, 'AWS::Logs::LogGroup');

    // Act
    const statements = asArray(role['ManagedPolicyArns']).flatMap(managedPolicyStatements);

    // Assert
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
  });
});

describe('the audit log', () => {
  it('keeps six years of decisions, encrypted with a rotated key, and survives stack deletion', () => {
    // Arrange
    const [keyId] = logicalIdsOf(result, 'AWS::KMS::Key');

    // Assert: RetainExceptOnCreate keeps them on deletion and replacement, but a first create that
    // rolls back removes them, so running the same deploy again does not fail with "already exists":
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
    result.template.hasResource('AWS::Logs::LogGroup', {
      Properties: {
        LogGroupName: LOG_GROUP_NAME,
        RetentionInDays: 2192,
        KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      },
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
    result.template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('retains nothing whose name a later stack of the same name would need', () => {
    // Every log group name ends with the stack's own UUID prefix; no other retained resource has a name.
    for (const [id, resource] of Object.entries(result.json.Resources)) {
      if (resource['DeletionPolicy'] === undefined || resource['DeletionPolicy'] === 'Delete') continue;
      const props = resource.Properties ?? {};
      // A { Ref } names another resource (a version's FunctionName), not this one.
      const names = ['LogGroupName', 'Name', 'RoleName', 'SecretName', 'FunctionName', 'AliasName']
        .map((key) => props[key])
        .filter(
          (name) => name !== undefined && !(typeof name === 'object' && name !== null && 'Ref' in name),
        );
      const stackScoped = names.every((name) => JSON.stringify(name).includes('AWS::StackId'));
      expect({ id, stackScoped }).toEqual({ id, stackScoped: true });
    }
  });

  it('is where the function logs', () => {
    // Arrange
    const [logGroupId] = logicalIdsOf(result, 'AWS::Logs::LogGroup');

    // Assert
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
    });
  });

  it('lets only CloudWatch Logs use the key, and only for this deployment’s log groups', () => {
    result.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: `logs.${REGION}.amazonaws.com` },
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/healthimaging-authorizer/TestStack/Authorizer/*`,
              },
            },
          }),
        ]),
      },
    });
  });
});

describe('the alarms', () => {
  // CloudFormation lists an alarm's dimensions by name: decision or reason sit around function.
  const decisionAlarm = (dimension: string, value: string) => ({
    Namespace: 'HealthImagingAuthorizer',
    MetricName: 'decisions',
    Dimensions: [
      { Name: dimension, Value: value },
      { Name: 'function', Value: { Ref: functionLogicalId() } },
    ].sort((a, b) => a.Name.localeCompare(b.Name)),
    Statistic: 'Sum',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });

  it('exist for deny spikes and for idp_unavailable, deadline_exceeded and internal_error', () => {
    result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...decisionAlarm('decision', 'deny'),
      Threshold: 100,
    });
    for (const reason of ['idp_unavailable', 'deadline_exceeded', 'internal_error']) {
      result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...decisionAlarm('reason', reason),
        Threshold: 1,
      });
    }
  });

  it("watch only this stack's function: every decision metric, the config math included, has its name as `function`", () => {
    // Arrange
    const alarms = Object.values(result.template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm['Properties'] as Record<string, unknown>,
    );

    // Act: the alarm's own metric, or each metric of a math expression.
    const metrics = alarms.flatMap((alarm) => [
      alarm,
      ...asArray(alarm['Metrics'] as { MetricStat?: { Metric: Record<string, unknown> } }[])
        .map((query) => query.MetricStat?.Metric)
        .filter((metric) => metric !== undefined),
    ]);
    const decisionMetrics = metrics.filter((metric) => metric['Namespace'] === 'HealthImagingAuthorizer');

    // Assert: deny spike, idp_unavailable, deadline_exceeded, internal_error and the two config reasons.
    expect(decisionMetrics).toHaveLength(6);
    for (const metric of decisionMetrics) {
      expect(metric['Dimensions']).toContainEqual({ Name: 'function', Value: { Ref: functionLogicalId() } });
      expect(metric['Dimensions']).toHaveLength(2);
    }
  });

  it('exist for Lambda errors, throttles and p99 duration approaching the 1 s limit', () => {
    result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
    });
    result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
    });
    result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Threshold: 800,
    });
  });

  it('treat no traffic as fine and have no actions when no topic is given', () => {
    // Arrange
    const alarms = Object.values(result.template.findResources('AWS::CloudWatch::Alarm'));

    // Assert
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    for (const alarm of alarms) {
      expect(alarm['Properties']).toMatchObject({ TreatMissingData: 'notBreaching' });
      expect((alarm['Properties'] as Record<string, unknown>)['AlarmActions']).toBeUndefined();
    }
  });
});

describe('changes made outside a deploy', () => {
  it('are matched from CloudTrail for the function, its aliases and permissions, unless CloudFormation made them', () => {
    result.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.lambda'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['lambda.amazonaws.com'],
          eventName: Match.arrayWith([
            { prefix: 'UpdateFunctionCode' },
            { prefix: 'UpdateAlias' },
            { prefix: 'AddPermission' },
          ]),
          requestParameters: {
            functionName: [{ wildcard: { 'Fn::Join': ['', ['*', { Ref: functionLogicalId() }, '*']] } }],
          },
          userIdentity: {
            invokedBy: [{ exists: false }, { 'anything-but': ['cloudformation.amazonaws.com'] }],
          },
        },
      },
      Targets: [Match.objectLike({ Arn: Match.anyValue() })],
    });
  });

  it('are written to their own retained log group, which EventBridge may write to', () => {
    // Arrange
    const changes = Object.entries(result.template.findResources('AWS::Logs::LogGroup')).filter(([, group]) =>
      JSON.stringify(group).includes('/changes-'),
    );

    // Assert
    expect(changes).toHaveLength(1);
    expect(changes[0]![1]).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate' });
    const [policy] = Object.values(result.template.findResources('AWS::Logs::ResourcePolicy'));
    expect(JSON.stringify(policy)).toContain('events.amazonaws.com');
  });

  it('raise an alarm on the first one', () => {
    result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'AWS/Events', MetricName: 'TriggeredRules' }),
          }),
        }),
      ]),
    });
  });
});

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in the AwsSolutions, HIPAA Security, NIST 800-53 R5 and Serverless packs', () => {
    expect(result.nagFindings).toEqual([]);
  });
});

/**
 * `createDatastore`: the custom resource that creates the OIDC-enabled datastore with the alias ARN,
 * polls until ACTIVE, never deletes it, runs bundled code from dist/custom-resources and scopes the
 * roles to the new datastore; HealthImaging's invoke permissions; and a KMS key, storage format and
 * tags with just the rights they need.
 */

import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  allPolicyStatements,
  asArray,
  dicomWebOutputs,
  logicalIdsOf,
  REGION,
  type SynthResult,
  SYNTH_TIMEOUT_MS,
  synthStack,
} from '../support/synth-stack.ts';

let result: SynthResult;

beforeAll(() => {
  result = synthStack({ createDatastore: { datastoreName: 'radiology-oidc' } });
}, SYNTH_TIMEOUT_MS);
afterAll(() => result.cleanup());

function datastoreLogicalId(): string {
  const [id] = logicalIdsOf(result, 'Custom::HealthImagingDatastore');
  return id!;
}

function aliasLogicalId(): string {
  const [id] = logicalIdsOf(result, 'AWS::Lambda::Alias');
  return id!;
}

/** Every statement of the role the two provisioning functions run as (not the CDK framework's roles). */
function customResourceRoleStatements(): Record<string, unknown>[] {
  const onEvent = Object.values(result.json.Resources).find(
    (resource) => resource.Properties?.['Handler'] === 'create-datastore.onEvent',
  );
  const [roleId] = (onEvent?.Properties?.['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
  const role = result.json.Resources[roleId]!;
  const managed = asArray(role.Properties?.['ManagedPolicyArns'] as { Ref?: string }[]).map(
    (arn) => result.json.Resources[arn.Ref ?? '']!,
  );
  const inline = Object.values(result.json.Resources).filter(
    (resource) =>
      resource.Type === 'AWS::IAM::Policy' &&
      asArray(resource.Properties?.['Roles'] as unknown[]).some(
        (ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId }),
      ),
  );
  return [...managed, ...inline].flatMap(
    (policy) => (policy.Properties?.['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement,
  );
}

describe('the created datastore', () => {
  it('is created with the alias ARN as its authorizer and is retained when the stack goes', () => {
    result.template.hasResource('Custom::HealthImagingDatastore', {
      Properties: {
        DatastoreName: 'radiology-oidc',
        LambdaAuthorizerArn: { Ref: aliasLogicalId() },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('is provisioned by the bundled handler, polled by isComplete through a Provider', () => {
    // Arrange
    const handlers = Object.entries(result.json.Resources).filter(
      ([, resource]) =>
        resource.Type === 'AWS::Lambda::Function' &&
        String(resource.Properties?.['Handler']).startsWith('create-datastore.'),
    );

    // Act
    const names = handlers.map(([, resource]) => resource.Properties?.['Handler']).sort();

    // Assert
    expect(names).toEqual(['create-datastore.isComplete', 'create-datastore.onEvent']);
    for (const [logicalId] of handlers)
      expect(result.assetFiles(logicalId)).toEqual(['create-datastore.mjs']);
    result.template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  it('may only create datastores and read their status', () => {
    // Arrange
    const statements = allPolicyStatements(result).filter((statement) =>
      asArray(statement['Action']).some((action) =>
        /^medical-imaging:(Create|Get)Datastore$/.test(String(action)),
      ),
    );

    // Assert
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'medical-imaging:CreateDatastore', Resource: '*' },
      {
        Effect: 'Allow',
        Action: 'medical-imaging:GetDatastore',
        Resource: `arn:aws:medical-imaging:eu-west-1:${ACCOUNT}:datastore/*`,
      },
    ]);
    expect(allPolicyStatements(result).flatMap((statement) => asArray(statement['Action']))).not.toContain(
      'medical-imaging:DeleteDatastore',
    );
  });

  it('lets HealthImaging invoke for any datastore of the account, and grants the roles the new one only', () => {
    // The datastore ARN only exists after CreateDatastore, and the permission must exist before it, so the
    // permission names every datastore of this account and region (aws:SourceAccount kept). AHI lets the
    // permission "optionally" restrict calls to a datastore ARN:
    // https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-requirements.html
    // Arrange
    const arn = { 'Fn::GetAtt': [datastoreLogicalId(), 'DatastoreArn'] };
    const grants = Object.values(result.template.findResources('AWS::Lambda::Permission')).map(
      (permission) => permission['Properties'] as Record<string, unknown>,
    );
    const dicomweb = allPolicyStatements(result).filter((statement) =>
      asArray(statement['Action']).some((action) => String(action).includes('DICOM')),
    );

    // Assert
    expect(grants).toHaveLength(2);
    for (const grant of grants) {
      expect(grant['SourceArn']).toBe(`arn:aws:medical-imaging:eu-west-1:${ACCOUNT}:datastore/*`);
      expect(grant['SourceAccount']).toBe(ACCOUNT);
      expect(grant['FunctionName']).toEqual({ Ref: aliasLogicalId() });
    }
    // Two grants name the new datastore; the boundary, a ceiling that cannot wait for it, the account's.
    expect(dicomweb.map((statement) => statement['Resource'])).toEqual(
      expect.arrayContaining([arn, arn, `arn:aws:medical-imaging:eu-west-1:${ACCOUNT}:datastore/*`]),
    );
    expect(dicomweb).toHaveLength(3);
  });

  it('is created after everything that could still fail a first deploy, so a rollback leaves no datastore', () => {
    // A created datastore is kept (and bound to this alias for good): the named roles, the change watch
    // and the alarms come first; only the role grants that name its ARN come after it.
    // Arrange
    const dependsOn = asArray(result.json.Resources[datastoreLogicalId()]!['DependsOn'] as string[]);
    const expected = [
      ...logicalIdsOf(result, 'AWS::IAM::Role').filter((id) => id.startsWith('AuthorizerRoles')),
      ...logicalIdsOf(result, 'AWS::Events::Rule'),
      ...logicalIdsOf(result, 'AWS::Logs::ResourcePolicy'),
      ...logicalIdsOf(result, 'AWS::CloudWatch::Alarm'),
      ...logicalIdsOf(result, 'AWS::Lambda::Alias'),
    ];

    // Act
    const rolesMentionDatastore = logicalIdsOf(result, 'AWS::IAM::Role')
      .filter((id) => id.startsWith('AuthorizerRoles'))
      .map((id) => JSON.stringify(result.json.Resources[id]).includes(datastoreLogicalId()));

    // Assert
    expect(expected.length).toBeGreaterThan(8);
    expect(dependsOn).toEqual(expect.arrayContaining(expected));
    expect(rolesMentionDatastore).toEqual([false, false]);
  });

  it('is created only once HealthImaging may invoke the alias', () => {
    // The resource-based policy for HealthImaging is part of the authorizer setup that precedes the
    // datastore: https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-requirements.html
    // Arrange
    const permissions = logicalIdsOf(result, 'AWS::Lambda::Permission');

    // Act
    const dependsOn = asArray(result.json.Resources[datastoreLogicalId()]!['DependsOn'] as string[]);

    // Assert
    expect(permissions).toHaveLength(2);
    expect(dependsOn).toEqual(expect.arrayContaining(permissions));
  });

  it('lets the role that calls CreateDatastore invoke exactly the alias it names, nothing wider', () => {
    // HealthImaging invokes the authorizer with forward access sessions (FAS), which carry the permissions
    // of the principal that called it, here the role calling CreateDatastore:
    // https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-lambda.html
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html
    // Arrange
    const authorizerArn = result.json.Resources[datastoreLogicalId()]!.Properties?.['LambdaAuthorizerArn'];

    // Act
    const lambdaStatements = customResourceRoleStatements().filter((statement) =>
      asArray(statement['Action']).some((action) => String(action).startsWith('lambda:')),
    );

    // Assert
    expect(authorizerArn).toEqual({ Ref: aliasLogicalId() });
    expect(lambdaStatements).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: authorizerArn },
    ]);
  });

  it('is granted to the HealthImaging principals only, on the alias, each grant with SourceAccount and a datastore of this account as SourceArn', () => {
    // Arrange: the new datastore's ARN only exists after the permission must (see above).
    const arn = `arn:aws:medical-imaging:${REGION}:${ACCOUNT}:datastore/*`;

    // Act
    const grants = Object.values(result.template.findResources('AWS::Lambda::Permission')).map(
      (permission) => permission['Properties'] as Record<string, unknown>,
    );

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
        SourceArn: arn,
      });
    }
  });

  it('outputs the datastore id', () => {
    result.template.hasOutput('DatastoreId', {
      Value: { 'Fn::GetAtt': [datastoreLogicalId(), 'DatastoreId'] },
    });
  });

  it('outputs its DICOMweb base URL, the developer guide form with the id CloudFormation returns', () => {
    // The form: https://dicom-medical-imaging.<region>.amazonaws.com/datastore/<id>/studies
    // (https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-search-studies.html).
    result.template.hasOutput('DicomWebEndpointCreatedDatastore', {
      Value: {
        'Fn::Join': [
          '',
          [
            `https://dicom-medical-imaging.${REGION}.amazonaws.com/datastore/`,
            { 'Fn::GetAtt': [datastoreLogicalId(), 'DatastoreId'] },
          ],
        ],
      },
      Description: Match.stringLikeRegexp('^DICOMweb base URL of the datastore this stack created'),
    });
    expect(Object.keys(dicomWebOutputs(result))).toEqual(['DicomWebEndpointCreatedDatastore']);
  });

  it('stays cdk-nag clean, the CDK framework included', () => {
    expect(result.nagFindings).toEqual([]);
  });
});

describe('a created datastore with a customer-managed key, a lossless storage format and tags', () => {
  const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
  let options: SynthResult;

  beforeAll(() => {
    options = synthStack({
      createDatastore: {
        datastoreName: 'radiology-oidc',
        kmsKeyArn: KEY_ARN,
        losslessStorageFormat: 'JPEG_2000_LOSSLESS',
        tags: { CostCenter: 'radiology', 'hospital:site': 'north' },
      },
    });
  }, SYNTH_TIMEOUT_MS);
  afterAll(() => options.cleanup());

  it('passes them to CreateDatastore through the custom resource', () => {
    // The optional CreateDatastore parameters:
    // https://docs.aws.amazon.com/healthimaging/latest/APIReference/API_CreateDatastore.html
    options.template.hasResourceProperties('Custom::HealthImagingDatastore', {
      DatastoreName: 'radiology-oidc',
      KmsKeyArn: KEY_ARN,
      LosslessStorageFormat: 'JPEG_2000_LOSSLESS',
      Tags: { CostCenter: 'radiology', 'hospital:site': 'north' },
    });
  });

  it('lets the creating role use exactly that key, with the actions HealthImaging documents', () => {
    // "Required IAM permissions for using a customer managed KMS key" (kms:CreateGrant, GenerateDataKey,
    // RetireGrant, Decrypt, ReEncrypt* on the key ARN) and kms:DescribeKey, "required for all operations":
    // https://docs.aws.amazon.com/healthimaging/latest/devguide/data-encryption.html
    // Act
    const kms = allPolicyStatements(options).filter((statement) =>
      asArray(statement['Action']).some((action) => String(action).startsWith('kms:')),
    );
    const onKey = kms.filter((statement) => statement['Resource'] === KEY_ARN);

    // Assert
    expect(onKey).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'kms:CreateGrant',
          'kms:DescribeKey',
          'kms:GenerateDataKey',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:RetireGrant',
        ],
        Resource: KEY_ARN,
      },
    ]);
  });

  it('lets the creating role tag the datastore it creates, which CreateDatastore with tags requires', () => {
    // The CreateDatastore operation authorizes medical-imaging:CreateDatastore and medical-imaging:TagResource:
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_medical-imaging.html
    // Act
    const tagging = allPolicyStatements(options).filter((statement) =>
      asArray(statement['Action']).includes('medical-imaging:TagResource'),
    );

    // Assert
    expect(tagging).toEqual([
      {
        Effect: 'Allow',
        Action: 'medical-imaging:TagResource',
        Resource: `arn:aws:medical-imaging:eu-west-1:${ACCOUNT}:datastore/*`,
      },
    ]);
  });

  it('stays cdk-nag clean', () => {
    expect(options.nagFindings).toEqual([]);
  });
});

describe('datastore options CreateDatastore would refuse', () => {
  it.each([
    [
      'an alias instead of a key ARN',
      { kmsKeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/pacs` },
      /kmsKeyArn: expected a KMS key ARN/,
    ],
    [
      'an unknown lossless format',
      { losslessStorageFormat: 'JPEG' },
      /losslessStorageFormat: expected one of HTJ2K, JPEG_2000_LOSSLESS/,
    ],
    ['a tag key in the aws: namespace', { tags: { 'aws:owner': 'pacs' } }, /tags: key "aws:owner" must be/],
    [
      'a tag value over 256 characters',
      { tags: { Owner: 'x'.repeat(257) } },
      /tags: the value of "Owner" must be a string of at most 256/,
    ],
  ])('fail the synth: %s', (_name, given, message) => {
    // Limits of the CreateDatastore API:
    // https://docs.aws.amazon.com/healthimaging/latest/APIReference/API_CreateDatastore.html
    // Act
    const synth = () =>
      synthStack({ createDatastore: { datastoreName: 'radiology-oidc', ...(given as object) } });

    // Assert
    expect(synth).toThrow(message);
  });
});

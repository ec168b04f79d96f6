/**
 * `createDatastore`: the custom resource that creates the OIDC-enabled datastore with the alias ARN,
 * never deletes it, polls until ACTIVE through the Provider, runs bundled code from
 * dist/custom-resources, and then scopes the invoke permission (HealthImaging only, with SourceAccount
 * and SourceArn) and the roles to the new datastore, and outputs its id and DICOMweb endpoint.
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
} from './synth-stack.ts';

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

  it('becomes the only SourceArn of the invoke permission and the only resource of the roles', () => {
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
    for (const grant of grants) expect(grant['SourceArn']).toEqual(arn);
    expect(dicomweb.length).toBe(3);
    for (const statement of dicomweb) expect(statement['Resource']).toEqual(arn);
  });

  it('is granted to the HealthImaging principals only, on the alias, each grant with SourceAccount and its ARN as SourceArn', () => {
    // Arrange
    const arn = { 'Fn::GetAtt': [datastoreLogicalId(), 'DatastoreArn'] };

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

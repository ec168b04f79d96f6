/**
 * The custom-resource handlers behind `createDatastore` (src/custom-resources/create-datastore.ts),
 * against a mocked HealthImaging client: CreateDatastore carries `lambdaAuthorizerArn`, an idempotency
 * token and, when given, the KMS key, lossless storage format and tags; isComplete waits for ACTIVE and
 * turns CREATE_FAILED into a failure, an update that would need a new datastore fails loudly, and
 * nothing ever calls DeleteDatastore.
 */

import {
  CreateDatastoreCommand,
  DeleteDatastoreCommand,
  GetDatastoreCommand,
  MedicalImagingClient,
} from '@aws-sdk/client-medical-imaging';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDatastoreHandlers, type DatastoreEvent } from '../../src/custom-resources/create-datastore.ts';

const AUTHORIZER = 'arn:aws:lambda:eu-west-1:111122223333:function:authorizer:live';
const DATASTORE_ID = '0123456789abcdef0123456789abcdef';
const DATASTORE_ARN = `arn:aws:medical-imaging:eu-west-1:111122223333:datastore/${DATASTORE_ID}`;
const PROPERTIES = { ServiceToken: 'arn:token', DatastoreName: 'radiology', LambdaAuthorizerArn: AUTHORIZER };
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555';
const WITH_OPTIONS = {
  ...PROPERTIES,
  KmsKeyArn: KEY_ARN,
  LosslessStorageFormat: 'JPEG_2000_LOSSLESS',
  Tags: { CostCenter: 'radiology', Environment: 'prod' },
};

const mock = mockClient(MedicalImagingClient);
const client = new MedicalImagingClient({ region: 'eu-west-1' });
const { onEvent, isComplete } = createDatastoreHandlers(client);

function event(overrides: Partial<DatastoreEvent>): DatastoreEvent {
  return {
    RequestType: 'Create',
    RequestId: '5d7a1c2e-0000-4000-8000-000000000001',
    ResourceProperties: PROPERTIES,
    ...overrides,
  };
}

beforeEach(() => {
  mock.reset();
});

describe('onEvent', () => {
  it('creates the datastore with the authorizer ARN and the request id as idempotency token', async () => {
    // Arrange
    mock.on(CreateDatastoreCommand).resolves({ datastoreId: DATASTORE_ID, datastoreStatus: 'CREATING' });

    // Act
    const answer = await onEvent(event({}));

    // Assert
    expect(answer).toEqual({ PhysicalResourceId: DATASTORE_ID });
    expect(mock.commandCalls(CreateDatastoreCommand)[0]!.args[0].input).toEqual({
      datastoreName: 'radiology',
      lambdaAuthorizerArn: AUTHORIZER,
      clientToken: '5d7a1c2e-0000-4000-8000-000000000001',
    });
  });

  it('passes the customer-managed key, the lossless storage format and the tags it is given', async () => {
    // The optional CreateDatastore parameters:
    // https://docs.aws.amazon.com/healthimaging/latest/APIReference/API_CreateDatastore.html
    // Arrange
    mock.on(CreateDatastoreCommand).resolves({ datastoreId: DATASTORE_ID, datastoreStatus: 'CREATING' });

    // Act
    await onEvent(event({ ResourceProperties: WITH_OPTIONS }));

    // Assert
    expect(mock.commandCalls(CreateDatastoreCommand)[0]!.args[0].input).toEqual({
      datastoreName: 'radiology',
      lambdaAuthorizerArn: AUTHORIZER,
      kmsKeyArn: KEY_ARN,
      losslessStorageFormat: 'JPEG_2000_LOSSLESS',
      tags: { CostCenter: 'radiology', Environment: 'prod' },
      clientToken: '5d7a1c2e-0000-4000-8000-000000000001',
    });
  });

  it('refuses a lossless storage format HealthImaging does not know, before calling it', async () => {
    // Act
    const answer = onEvent(event({ ResourceProperties: { ...PROPERTIES, LosslessStorageFormat: 'JPEG' } }));

    // Assert
    await expect(answer).rejects.toThrow('LosslessStorageFormat must be one of HTJ2K, JPEG_2000_LOSSLESS');
    expect(mock.calls()).toHaveLength(0);
  });

  it('reports a CreateDatastore error as a failure', async () => {
    // Arrange
    mock.on(CreateDatastoreCommand).rejects(new Error('ValidationException: invalid authorizer'));

    // Act
    const answer = onEvent(event({}));

    // Assert
    await expect(answer).rejects.toThrow('invalid authorizer');
  });

  it('fails an update that changes the authorizer, because a datastore cannot change it', async () => {
    // Arrange
    const update = event({
      RequestType: 'Update',
      PhysicalResourceId: DATASTORE_ID,
      OldResourceProperties: { ...PROPERTIES, LambdaAuthorizerArn: `${AUTHORIZER}-old` },
    });

    // Act
    const answer = onEvent(update);

    // Assert
    await expect(answer).rejects.toThrow(/LambdaAuthorizerArn cannot change after creation/);
    expect(mock.calls()).toHaveLength(0);
  });

  it.each([
    ['KmsKeyArn', { ...WITH_OPTIONS, KmsKeyArn: KEY_ARN.replace('1111', '9999') }],
    ['LosslessStorageFormat', { ...WITH_OPTIONS, LosslessStorageFormat: 'HTJ2K' }],
    ['Tags', { ...WITH_OPTIONS, Tags: { CostCenter: 'oncology', Environment: 'prod' } }],
    ['Tags', { ...WITH_OPTIONS, Tags: { CostCenter: 'radiology' } }],
  ])('fails an update that changes %s, which a datastore keeps for life', async (name, changed) => {
    // Arrange
    const update = event({
      RequestType: 'Update',
      PhysicalResourceId: DATASTORE_ID,
      ResourceProperties: changed,
      OldResourceProperties: WITH_OPTIONS,
    });

    // Act
    const answer = onEvent(update);

    // Assert
    await expect(answer).rejects.toThrow(`${DATASTORE_ID}: ${name} cannot change after creation`);
    expect(mock.calls()).toHaveLength(0);
  });

  it('fails an update that adds a KMS key to a datastore created without one', async () => {
    // Act
    const answer = onEvent(
      event({
        RequestType: 'Update',
        PhysicalResourceId: DATASTORE_ID,
        ResourceProperties: { ...PROPERTIES, KmsKeyArn: KEY_ARN },
        OldResourceProperties: PROPERTIES,
      }),
    );

    // Assert
    await expect(answer).rejects.toThrow(/KmsKeyArn cannot change after creation/);
  });

  it('compares tags by content: the same tags in another order keep the datastore, a new value fails', async () => {
    // Arrange
    const update = (Tags: Record<string, string>) =>
      event({
        RequestType: 'Update',
        PhysicalResourceId: DATASTORE_ID,
        ResourceProperties: { ...WITH_OPTIONS, Tags },
        OldResourceProperties: WITH_OPTIONS,
      });

    // Act
    const reordered = await onEvent(update({ Environment: 'prod', CostCenter: 'radiology' }));
    const changed = onEvent(update({ Environment: 'test', CostCenter: 'radiology' }));

    // Assert
    expect(reordered).toEqual({ PhysicalResourceId: DATASTORE_ID });
    await expect(changed).rejects.toThrow(/Tags cannot change after creation/);
  });

  it('keeps the datastore on an update that changes nothing it holds', async () => {
    // Act
    const answer = await onEvent(
      event({ RequestType: 'Update', PhysicalResourceId: DATASTORE_ID, OldResourceProperties: PROPERTIES }),
    );

    // Assert
    expect(answer).toEqual({ PhysicalResourceId: DATASTORE_ID });
  });

  it('never deletes the datastore (medical data)', async () => {
    // Act
    const answer = await onEvent(event({ RequestType: 'Delete', PhysicalResourceId: DATASTORE_ID }));

    // Assert
    expect(answer).toEqual({ PhysicalResourceId: DATASTORE_ID });
    expect(mock.commandCalls(DeleteDatastoreCommand)).toHaveLength(0);
    expect(mock.calls()).toHaveLength(0);
  });
});

describe('isComplete', () => {
  it('waits while the datastore is CREATING', async () => {
    // Arrange
    mock.on(GetDatastoreCommand).resolves({
      datastoreProperties: {
        datastoreId: DATASTORE_ID,
        datastoreName: 'radiology',
        datastoreStatus: 'CREATING',
        datastoreArn: DATASTORE_ARN,
      },
    });

    // Act
    const answer = await isComplete(event({ PhysicalResourceId: DATASTORE_ID }));

    // Assert
    expect(answer).toEqual({ IsComplete: false });
  });

  it('completes with the id and ARN once ACTIVE', async () => {
    // Arrange
    mock.on(GetDatastoreCommand, { datastoreId: DATASTORE_ID }).resolves({
      datastoreProperties: {
        datastoreId: DATASTORE_ID,
        datastoreName: 'radiology',
        datastoreStatus: 'ACTIVE',
        datastoreArn: DATASTORE_ARN,
      },
    });

    // Act
    const answer = await isComplete(event({ PhysicalResourceId: DATASTORE_ID }));

    // Assert
    expect(answer).toEqual({
      IsComplete: true,
      Data: { DatastoreId: DATASTORE_ID, DatastoreArn: DATASTORE_ARN },
    });
  });

  it('fails when the datastore ends in CREATE_FAILED', async () => {
    // Arrange
    mock.on(GetDatastoreCommand).resolves({
      datastoreProperties: {
        datastoreId: DATASTORE_ID,
        datastoreName: 'radiology',
        datastoreStatus: 'CREATE_FAILED',
      },
    });

    // Act
    const answer = isComplete(event({ PhysicalResourceId: DATASTORE_ID }));

    // Assert
    await expect(answer).rejects.toThrow(`datastore ${DATASTORE_ID} is CREATE_FAILED, not ACTIVE`);
  });

  it('completes a delete at once without touching the datastore', async () => {
    // Act
    const answer = await isComplete(event({ RequestType: 'Delete', PhysicalResourceId: DATASTORE_ID }));

    // Assert
    expect(answer).toEqual({ IsComplete: true });
    expect(mock.calls()).toHaveLength(0);
  });
});

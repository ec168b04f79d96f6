/**
 * Custom-resource handlers that create an OIDC-enabled HealthImaging datastore, which
 * CloudFormation's `AWS::HealthImaging::Datastore` cannot (it has no authorizer property):
 * `onEvent` calls CreateDatastore with `lambdaAuthorizerArn`, `isComplete` polls GetDatastore until
 * ACTIVE. They never delete a datastore (it holds medical images), and an update that would change
 * one fails (no UpdateDatastore; tags are set only at creation).
 */

import {
  CreateDatastoreCommand,
  type CreateDatastoreCommandInput,
  GetDatastoreCommand,
  LosslessStorageFormat,
  MedicalImagingClient,
} from '@aws-sdk/client-medical-imaging';

/** What the stack passes as the custom resource's properties (CloudFormation turns them into strings). */
export interface DatastoreResourceProperties {
  DatastoreName: string;
  LambdaAuthorizerArn: string;
  /** Present only when the stack sets them (infra/healthimaging-datastore.ts). */
  KmsKeyArn?: string;
  LosslessStorageFormat?: string;
  Tags?: Record<string, string>;
}

/** The subset of the Provider framework's event these handlers read. */
export interface DatastoreEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  RequestId: string;
  PhysicalResourceId?: string;
  ResourceProperties: Partial<DatastoreResourceProperties> & Record<string, unknown>;
  OldResourceProperties?: Partial<DatastoreResourceProperties> & Record<string, unknown>;
}

export interface OnEventResult {
  PhysicalResourceId: string;
}

export interface IsCompleteResult {
  IsComplete: boolean;
  Data?: { DatastoreId: string; DatastoreArn: string };
}

/** The one client method used, so tests can pass a mocked client. */
export type MedicalImagingSender = Pick<MedicalImagingClient, 'send'>;

/**
 * Properties this resource never changes after creation: the datastore keeps all but Tags for life
 * (there is no UpdateDatastore); Tags it sets only at creation (CreateDatastore's `tags`).
 */
const IMMUTABLE_PROPERTIES = [
  'DatastoreName',
  'LambdaAuthorizerArn',
  'KmsKeyArn',
  'LosslessStorageFormat',
  'Tags',
] as const;

function requiredProperty(event: DatastoreEvent, name: 'DatastoreName' | 'LambdaAuthorizerArn'): string {
  const value = event.ResourceProperties[name];
  if (typeof value !== 'string' || value === '') throw new Error(`${name} is required`);
  return value;
}

/** The optional CreateDatastore parameters, each only when the stack set it. */
function optionalParameters(
  properties: DatastoreEvent['ResourceProperties'],
): Pick<CreateDatastoreCommandInput, 'kmsKeyArn' | 'losslessStorageFormat' | 'tags'> {
  const { KmsKeyArn: kmsKeyArn, LosslessStorageFormat: format, Tags: tags } = properties;
  if (kmsKeyArn !== undefined && (typeof kmsKeyArn !== 'string' || kmsKeyArn === '')) {
    throw new Error('KmsKeyArn must be a non-empty string');
  }
  const formats: readonly string[] = Object.values(LosslessStorageFormat);
  if (format !== undefined && (typeof format !== 'string' || !formats.includes(format))) {
    throw new Error(`LosslessStorageFormat must be one of ${formats.join(', ')}`);
  }
  if (
    tags !== undefined &&
    (typeof tags !== 'object' ||
      tags === null ||
      Array.isArray(tags) ||
      Object.values(tags).some((value) => typeof value !== 'string'))
  ) {
    throw new Error('Tags must map keys to string values');
  }
  return {
    ...(kmsKeyArn !== undefined && { kmsKeyArn }),
    ...(format !== undefined && { losslessStorageFormat: format as LosslessStorageFormat }),
    ...(tags !== undefined && Object.keys(tags).length > 0 && { tags }),
  };
}

/** A property's value for comparison: object keys sorted, so tags given in another order are equal. */
function comparable(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length === 0 ? undefined : JSON.stringify(entries);
  }
  return JSON.stringify(value);
}

export function createDatastoreHandlers(client: MedicalImagingSender) {
  async function onEvent(event: DatastoreEvent): Promise<OnEventResult> {
    if (event.RequestType === 'Create') {
      const output = await client.send(
        new CreateDatastoreCommand({
          datastoreName: requiredProperty(event, 'DatastoreName'),
          // Known to @aws-sdk/client-medical-imaging >= 3.958 (checked in its CreateDatastoreRequest type).
          lambdaAuthorizerArn: requiredProperty(event, 'LambdaAuthorizerArn'),
          ...optionalParameters(event.ResourceProperties),
          // CloudFormation's request id is unique per request and stable across the framework's
          // retries, so a retried Create returns the same datastore instead of a second one.
          clientToken: event.RequestId.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64),
        }),
      );
      if (!output.datastoreId) throw new Error('CreateDatastore returned no datastoreId');
      return { PhysicalResourceId: output.datastoreId };
    }

    const datastoreId = event.PhysicalResourceId;
    if (!datastoreId) throw new Error(`${event.RequestType} without a PhysicalResourceId`);

    if (event.RequestType === 'Update') {
      const changed = IMMUTABLE_PROPERTIES.filter(
        (name) =>
          comparable(event.ResourceProperties[name]) !== comparable(event.OldResourceProperties?.[name]),
      );
      if (changed.length > 0) {
        const names =
          changed.length === 1 ? changed[0] : `${changed.slice(0, -1).join(', ')} and ${changed.at(-1)}`;
        const reasons = [
          ...(changed.some((name) => name !== 'Tags')
            ? ['HealthImaging has no UpdateDatastore; changing the authorizer needs AWS Support']
            : []),
          ...(changed.includes('Tags')
            ? [
                "this resource sets tags only at creation, and a datastore's tags change with HealthImaging's TagResource / UntagResource",
              ]
            : []),
        ];
        throw new Error(
          `datastore ${datastoreId}: ${names} cannot change after creation (${reasons.join('; ')}). ` +
            'Revert the change, or create a new datastore under a new construct id.',
        );
      }
    }
    // Delete: the datastore is retained on purpose (medical data); the stack also sets
    // DeletionPolicy: Retain, so CloudFormation normally never sends this.
    return { PhysicalResourceId: datastoreId };
  }

  async function isComplete(event: DatastoreEvent): Promise<IsCompleteResult> {
    if (event.RequestType === 'Delete') return { IsComplete: true };
    const datastoreId = event.PhysicalResourceId;
    if (!datastoreId) throw new Error('isComplete without a PhysicalResourceId');
    const { datastoreProperties } = await client.send(new GetDatastoreCommand({ datastoreId }));
    const status = datastoreProperties?.datastoreStatus;
    if (status === 'ACTIVE') {
      const datastoreArn = datastoreProperties?.datastoreArn;
      if (!datastoreArn) throw new Error(`datastore ${datastoreId} is ACTIVE but has no ARN`);
      return { IsComplete: true, Data: { DatastoreId: datastoreId, DatastoreArn: datastoreArn } };
    }
    if (status === 'CREATING') return { IsComplete: false };
    // CREATE_FAILED, DELETING, DELETED or anything new: a failure CloudFormation must report.
    throw new Error(`datastore ${datastoreId} is ${status ?? 'in an unknown state'}, not ACTIVE`);
  }

  return { onEvent, isComplete };
}

let handlers: ReturnType<typeof createDatastoreHandlers> | undefined;
const defaultHandlers = () => (handlers ??= createDatastoreHandlers(new MedicalImagingClient({})));

export const onEvent = (event: DatastoreEvent) => defaultHandlers().onEvent(event);
export const isComplete = (event: DatastoreEvent) => defaultHandlers().isComplete(event);

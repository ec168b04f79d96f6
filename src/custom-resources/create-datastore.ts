/**
 * The custom-resource handlers that create an OIDC-enabled HealthImaging datastore. CloudFormation's
 * `AWS::HealthImaging::Datastore` has no authorizer property, so the CDK custom-resources Provider
 * runs these: `onEvent` calls CreateDatastore with `lambdaAuthorizerArn`, `isComplete` polls
 * GetDatastore until the store is ACTIVE and fails on CREATE_FAILED. Nothing here ever deletes a
 * datastore (it holds medical images), and because HealthImaging has no UpdateDatastore, a changed
 * name or authorizer fails the update instead of silently leaving the old store in place.
 */

import {
  CreateDatastoreCommand,
  GetDatastoreCommand,
  MedicalImagingClient,
} from '@aws-sdk/client-medical-imaging';

/** What the stack passes as the custom resource's properties (CloudFormation turns them into strings). */
export interface DatastoreResourceProperties {
  DatastoreName: string;
  LambdaAuthorizerArn: string;
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

/** Properties a datastore can never change after creation (there is no UpdateDatastore). */
const IMMUTABLE_PROPERTIES = ['DatastoreName', 'LambdaAuthorizerArn'] as const;

function requiredProperty(event: DatastoreEvent, name: keyof DatastoreResourceProperties): string {
  const value = event.ResourceProperties[name];
  if (typeof value !== 'string' || value === '') throw new Error(`${name} is required`);
  return value;
}

export function createDatastoreHandlers(client: MedicalImagingSender) {
  async function onEvent(event: DatastoreEvent): Promise<OnEventResult> {
    if (event.RequestType === 'Create') {
      const output = await client.send(
        new CreateDatastoreCommand({
          datastoreName: requiredProperty(event, 'DatastoreName'),
          // Known to @aws-sdk/client-medical-imaging >= 3.958 (checked in its CreateDatastoreRequest type).
          lambdaAuthorizerArn: requiredProperty(event, 'LambdaAuthorizerArn'),
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
        (name) => event.ResourceProperties[name] !== event.OldResourceProperties?.[name],
      );
      if (changed.length > 0) {
        throw new Error(
          `datastore ${datastoreId}: ${changed.join(' and ')} cannot change after creation ` +
            '(HealthImaging has no UpdateDatastore; changing the authorizer needs AWS Support). ' +
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

/**
 * The IAM roles the authorizer hands to HealthImaging: read-only (DICOMweb reads) and read-write (plus
 * stores), named per stack so a config can name them before the first deploy. Policies on the
 * datastore ARNs only, capped by a permissions boundary of the same scope: a policy attached later by
 * hand cannot widen what a token can do.
 */

import { Duration } from 'aws-cdk-lib';
import { Effect, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { READ_OPERATIONS, WRITE_OPERATIONS } from '../src/core/contract/healthimaging.ts';
import { acknowledgeWildcardResource } from './acknowledge-wildcard-resource.ts';
import { healthImagingArns } from './healthimaging-arns.ts';

/**
 * The roles trust HealthImaging
 * (https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-requirements.html).
 */
const HEALTHIMAGING_SERVICE_PRINCIPAL = 'medical-imaging.amazonaws.com';
export const READ_ACTIONS = READ_OPERATIONS.map((operation) => `medical-imaging:${operation}`);
export const READ_WRITE_ACTIONS = [...READ_OPERATIONS, ...WRITE_OPERATIONS].map(
  (operation) => `medical-imaging:${operation}`,
);

/**
 * The two role names for a prefix (the stack name by default): deterministic, so a config file can
 * name the roles before the first deploy, and distinct per stack, because IAM role names are unique
 * in an account whatever their path
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names).
 */
export function dicomWebRoleNames(prefix: string): { readOnly: string; readWrite: string } {
  return { readOnly: `${prefix}-AhiReadOnly`, readWrite: `${prefix}-AhiReadWrite` };
}

export interface DicomWebRolesProps {
  /** IAM path, e.g. `/healthimaging/`. */
  readonly path: string;
  /** From dicomWebRoleNames. */
  readonly names: { readonly readOnly: string; readonly readWrite: string };
  /** Datastore ARNs the roles may act on (the account-wide `datastore/*` when so chosen). */
  readonly datastoreArns: readonly string[];
  /**
   * The boundary's and the trust conditions' datastore ARNs, when they must not wait for the
   * datastores (a datastore the stack creates after the roles). Default `datastoreArns`.
   */
  readonly ceilingArns?: readonly string[];
  /**
   * Require aws:SourceAccount and aws:SourceArn (the datastore ARNs) on the assume. Default false: it
   * is unconfirmed that HealthImaging's assume carries them, and a missing key would make every
   * request 424.
   */
  readonly trustConditions?: boolean;
}

export class DicomWebRoles extends Construct {
  readonly readOnly: Role;
  readonly readWrite: Role;
  /** The roles' ARNs as plain strings where the account is known (for the allowlist and the config). */
  readonly readOnlyRoleArn: string;
  readonly readWriteRoleArn: string;

  constructor(scope: Construct, id: string, props: DicomWebRolesProps) {
    super(scope, id);
    const arns = healthImagingArns(this);
    const resources = [...props.datastoreArns];
    const ceiling = [...(props.ceilingArns ?? props.datastoreArns)];
    const readOnlyName = props.names.readOnly;
    const readWriteName = props.names.readWrite;
    this.readOnlyRoleArn = arns.role(props.path, readOnlyName);
    this.readWriteRoleArn = arns.role(props.path, readWriteName);

    // The reason follows the scope: grants over every datastore were chosen ("datastores": "*"), and
    // then the ceiling is the same; only a ceiling over exact grants waits for a created datastore.
    const everyDatastoreChosen =
      'The deployment settings chose every datastore of this account and region ("datastores": "*"), ' +
      'explicitly: the id of a datastore only exists after CreateDatastore, which needs this stack first. ' +
      'Listing the datastore ids scopes the roles to their exact ARNs.';
    const wildcardReason = resources.includes(arns.anyDatastore())
      ? everyDatastoreChosen
      : 'A ceiling over the datastores of this account and region: the datastore this stack creates is created ' +
        'after the roles, so that a deploy failing on a role never leaves a datastore behind; the grants name ' +
        'its exact ARN.';
    const policy = (
      policyId: string,
      description: string,
      actions: string[],
      scope: string[],
      role?: Role,
    ) => {
      const managed = new ManagedPolicy(this, policyId, {
        description,
        statements: [new PolicyStatement({ effect: Effect.ALLOW, actions, resources: scope })],
        // Attached from the policy's side, so the role does not wait for the datastore ARN it names.
        ...(role && { roles: [role] }),
      });
      acknowledgeWildcardResource(managed, scope, arns.anyDatastore(), wildcardReason);
      return managed;
    };
    // A ceiling, not a grant: nothing attached to these roles later can exceed DICOMweb on these datastores.
    const boundary = policy(
      'Boundary',
      'Permissions boundary of the HealthImaging DICOMweb roles: DICOMweb operations on the datastore only',
      READ_WRITE_ACTIONS,
      ceiling,
    );

    const role = (roleId: string, roleName: string, description: string) => {
      const principal = new ServicePrincipal(HEALTHIMAGING_SERVICE_PRINCIPAL);
      const created = new Role(this, roleId, {
        roleName,
        path: props.path,
        description,
        assumedBy: props.trustConditions
          ? principal.withConditions({
              StringEquals: { 'aws:SourceAccount': arns.account },
              ArnLike: { 'aws:SourceArn': ceiling },
            })
          : principal,
        permissionsBoundary: boundary,
        // HealthImaging assumes the role per request; the shortest session IAM allows.
        maxSessionDuration: Duration.hours(1),
      });
      return created;
    };

    this.readOnly = role(
      'ReadOnly',
      readOnlyName,
      'Assumed by HealthImaging for DICOMweb reads allowed by the OIDC authorizer',
    );
    policy(
      'ReadOnlyPolicy',
      'HealthImaging DICOMweb read operations on the datastore',
      READ_ACTIONS,
      resources,
      this.readOnly,
    );
    this.readWrite = role(
      'ReadWrite',
      readWriteName,
      'Assumed by HealthImaging for DICOMweb reads and stores allowed by the OIDC authorizer',
    );
    policy(
      'ReadWritePolicy',
      'HealthImaging DICOMweb read and store operations on the datastore',
      READ_WRITE_ACTIONS,
      resources,
      this.readWrite,
    );
  }
}

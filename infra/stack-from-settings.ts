/**
 * Turns validated deployment settings (infra/deploy-settings.ts) and the config text into the
 * stack's typed props: the one mapping from the settings file's keys to construct options, shared
 * by the CDK app and the tests that synthesize the documented settings files.
 */

import type { LosslessStorageFormat } from '@aws-sdk/client-medical-imaging';
import type { AuthorizerStackProps } from './authorizer-stack.ts';
import type { DeploySettings } from './deploy-settings.ts';

export function stackPropsFromSettings(
  settings: DeploySettings,
  configJson: string,
  configSource: string,
  /** The `caBundle` file's text and how to name it in errors, when the settings name one. */
  caBundle?: { pem: string; source: string },
): AuthorizerStackProps {
  return {
    env: { account: settings.account, region: settings.region },
    ...(settings.kmsKeyArn && { kmsKeyArn: settings.kmsKeyArn }),
    ...(settings.alarmTopicArn && { alarmTopicArn: settings.alarmTopicArn }),
    ...(settings.vpcSubnetIds && { vpcSubnetIds: settings.vpcSubnetIds }),
    ...(settings.vpcSecurityGroupIds && { vpcSecurityGroupIds: settings.vpcSecurityGroupIds }),
    authorizer: {
      configJson,
      configSource,
      ...(caBundle && { caBundlePem: caBundle.pem, caBundleSource: caBundle.source }),
      configDelivery: settings.configDelivery,
      ...(settings.datastores !== undefined && { datastores: settings.datastores }),
      ...(settings.createDatastore && {
        createDatastore: {
          datastoreName: settings.datastoreName ?? `${settings.stackName}-datastore`,
          ...(settings.datastoreKmsKeyArn !== undefined && { kmsKeyArn: settings.datastoreKmsKeyArn }),
          // The settings schema checked both against the CreateDatastore rules (infra/datastore-options.ts).
          ...(settings.datastoreLosslessStorageFormat !== undefined && {
            losslessStorageFormat: settings.datastoreLosslessStorageFormat as LosslessStorageFormat,
          }),
          // An empty map is dropped by the datastore construct.
          ...(settings.datastoreTags !== undefined && {
            tags: settings.datastoreTags as Record<string, string>,
          }),
        },
      }),
      memorySize: settings.memoryMb,
      ...(settings.reservedConcurrency !== undefined && {
        reservedConcurrency: settings.reservedConcurrency,
      }),
      provisionedConcurrency: settings.provisionedConcurrency,
      logRetention: settings.logRetentionDays,
      denyAlarmThreshold: settings.denyAlarmThreshold,
      additionalRoleArns: settings.extraRoleArns,
      rolePath: settings.rolePath,
      roleNamePrefix: settings.roleNamePrefix,
      roleTrustConditions: settings.roleTrustConditions,
      invokePrincipals: settings.invokePrincipals,
      auditSubject: settings.auditSubject,
      ...(settings.budgetMs !== undefined && { budgetMs: settings.budgetMs }),
      ...(settings.initBudgetMs !== undefined && { initBudgetMs: settings.initBudgetMs }),
      ...(settings.provisionedInitBudgetMs !== undefined && {
        provisionedInitBudgetMs: settings.provisionedInitBudgetMs,
      }),
    },
  };
}

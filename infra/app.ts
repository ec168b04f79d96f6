/**
 * The CDK app (`cdk.json` runs it with tsx): the only place that reads context, files and the
 * environment. It parses the deployment props, reads the config file, declares the stack and runs the
 * cdk-nag packs. Expected mistakes (a bad key, a config typo, a missing build) end with one clear
 * message and exit code 1 instead of a stack trace.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { addNagChecks } from './add-nag-checks.ts';
import { AuthorizerStack } from './authorizer-stack.ts';
import { AuthorizerConfigError } from './check-authorizer-config.ts';
import { DEPLOY_KEYS, type DeployKey, DeployPropsError, parseDeployProps } from './deploy-props.ts';
import { AuthorizerSettingsError, DEFAULT_DIST_DIRECTORY } from './healthimaging-authorizer.ts';
import { DatastoreOptionsError } from './healthimaging-datastore.ts';

class UsageError extends Error {}

function main(): void {
  const app = new App();
  const context = Object.fromEntries(
    (Object.keys(DEPLOY_KEYS) as DeployKey[]).map((key) => [key, app.node.tryGetContext(key) as unknown]),
  );
  const props = parseDeployProps({
    context,
    readFile: (path) => readFileSync(path, 'utf8'),
    cwd: process.cwd(),
    // The CDK CLI sets these from its credentials; without credentials synth uses placeholders.
    defaultEnv: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
  });

  if (!existsSync(join(DEFAULT_DIST_DIRECTORY, 'handler.mjs'))) {
    throw new UsageError(
      'dist/handler.mjs is missing: run `npm run build` (cdk.json runs it before each synth)',
    );
  }
  if (
    props.createDatastore &&
    !existsSync(join(DEFAULT_DIST_DIRECTORY, 'custom-resources', 'create-datastore.mjs'))
  ) {
    throw new UsageError('dist/custom-resources/create-datastore.mjs is missing: run `npm run build`');
  }
  if (!existsSync(props.configPath)) {
    throw new UsageError(`config file not found: ${props.configPath} (pass -c config=path/to/config.json)`);
  }
  const inRepo = relative(process.cwd(), props.configPath);
  const configSource = inRepo && !inRepo.startsWith('..') ? inRepo : props.configPath;

  new AuthorizerStack(app, props.stackName, {
    env: { account: props.account, region: props.region },
    ...(props.kmsKeyArn && { kmsKeyArn: props.kmsKeyArn }),
    ...(props.alarmTopicArn && { alarmTopicArn: props.alarmTopicArn }),
    authorizer: {
      configJson: readFileSync(props.configPath, 'utf8'),
      configSource,
      datastoreIds: props.datastoreIds,
      ...(props.createDatastore &&
        props.datastoreName && {
          createDatastore: {
            datastoreName: props.datastoreName,
            ...(props.datastoreKmsKeyArn && { kmsKeyArn: props.datastoreKmsKeyArn }),
            ...(props.datastoreLosslessStorageFormat && {
              losslessStorageFormat: props.datastoreLosslessStorageFormat,
            }),
            ...(props.datastoreTags && { tags: props.datastoreTags }),
          },
        }),
      memorySize: props.memoryMb,
      reservedConcurrency: props.reservedConcurrency,
      provisionedConcurrency: props.provisionedConcurrency,
      logRetention: props.logRetention,
      denyAlarmThreshold: props.denyAlarmThreshold,
      additionalRoleArns: props.extraRoleArns,
      rolePath: props.rolePath,
      roleTrustConditions: props.roleTrustConditions,
      invokePrincipals: props.invokePrincipals,
      ...(props.budgetMs !== undefined && { budgetMs: props.budgetMs }),
      ...(props.initBudgetMs !== undefined && { initBudgetMs: props.initBudgetMs }),
      ...(props.provisionedInitBudgetMs !== undefined && {
        provisionedInitBudgetMs: props.provisionedInitBudgetMs,
      }),
    },
  });
  if (props.accountIsPlaceholder) {
    console.error(
      `note: no AWS account known (no -c account=, no CLI credentials): synthesizing for placeholder ` +
        `account ${props.account}, region ${props.region}. Deploys need real credentials.`,
    );
  }

  addNagChecks(app);
  app.synth();
}

try {
  main();
} catch (error) {
  if (
    error instanceof UsageError ||
    error instanceof DeployPropsError ||
    error instanceof AuthorizerConfigError ||
    error instanceof AuthorizerSettingsError ||
    error instanceof DatastoreOptionsError
  ) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

/**
 * The deployment's inputs, parsed once into typed props: from CDK context (`-c key=value`) or a small
 * JSON props file (`-c props=deploy.props.json`, context wins), with one error that lists every bad
 * key. Only the app calls this (STYLE.md convention 15: the app wires, the stack declares); constructs
 * see the typed result and never read context, files or the environment themselves.
 */

import { isAbsolute, resolve, dirname } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { LosslessStorageFormat } from '@aws-sdk/client-medical-imaging';
import { duplicateKeyIssues } from '../src/config/schema.ts';
import { DATASTORE_ID_PATTERN } from '../src/contract/healthimaging.ts';
import {
  BUDGET_MS,
  PROVISIONED_INIT_BUDGET_MS,
  runtimeSettingProblems,
  SETTING_NAMES,
} from '../src/lambda/runtime-settings.ts';
import { datastoreOptionProblems, LOSSLESS_STORAGE_FORMATS, readTags } from './datastore-options.ts';

/** Offline `cdk synth` (no credentials) needs some account and region; deploys always use real ones. */
export const PLACEHOLDER_ACCOUNT = '111122223333';
export const PLACEHOLDER_REGION = 'us-east-1';
export const DEFAULT_CONFIG_PATH = 'examples/deploy.config.json';

/** Every key, with the one-line meaning shown in errors and the README. */
export const DEPLOY_KEYS = {
  config: `path of the authorizer config JSON (default ${DEFAULT_CONFIG_PATH})`,
  props: 'path of a JSON file holding any of these keys (context values win)',
  stackName: 'CloudFormation stack name (default HealthImagingAuthorizer)',
  account: `AWS account (default: the CLI credentials' account, else the synth-only placeholder ${PLACEHOLDER_ACCOUNT})`,
  region: `AWS region, the datastore's (default: the CLI's region, else ${PLACEHOLDER_REGION})`,
  datastoreIds:
    'comma-separated datastore ids to scope invoke permission and roles to (default: any datastore in the account and region)',
  memoryMb: 'function memory in MB (default 1024)',
  reservedConcurrency: 'reserved concurrency, the cost and blast-radius cap (default 100)',
  provisionedConcurrency: 'provisioned concurrency on the alias, against cold starts (default 0)',
  logRetentionDays: 'audit log retention in days, a CloudWatch Logs value (default 2192, six years)',
  kmsKeyArn: 'KMS key for the audit log group (default: the stack creates one)',
  alarmTopicArn: 'SNS topic for alarm notifications (default: alarms without actions)',
  createDatastore: 'true to create the OIDC datastore with the alias ARN (default false)',
  datastoreName: 'name of the created datastore (default <stackName>-datastore)',
  datastoreKmsKeyArn:
    'customer-managed KMS key ARN (key/<id>, not an alias) that encrypts the created datastore (default: an AWS owned key)',
  datastoreLosslessStorageFormat: `lossless storage format of the created datastore: ${LOSSLESS_STORAGE_FORMATS.join(' or ')} (default: HealthImaging's)`,
  datastoreTags:
    'tags of the created datastore: a JSON object or key=value,key=value (keys 1-128 characters, not aws:; values up to 256)',
  extraRoleArns: 'comma-separated role ARNs the function may also return, beyond the stack-created roles',
  rolePath: 'IAM path of the stack-created roles (default /healthimaging/)',
  roleTrustConditions:
    'true to require aws:SourceAccount / aws:SourceArn when HealthImaging assumes the roles (default false: unconfirmed that it sends them)',
  invokePrincipals:
    'comma-separated: regional (medical-imaging.<region>.amazonaws.com), global (medical-imaging.amazonaws.com); default both',
  denyAlarmThreshold: 'denied decisions per 5 minutes that raise the deny-spike alarm (default 100)',
  budgetMs: `the function's internal deadline per invocation, ${BUDGET_MS.min}-${BUDGET_MS.max} ms (default ${BUDGET_MS.default})`,
  initBudgetMs:
    'how long an on-demand init waits for the config and keys, 0 to budgetMs - 50 (default half the budget)',
  provisionedInitBudgetMs: `how long a provisioned-concurrency init waits, ${PROVISIONED_INIT_BUDGET_MS.min}-${PROVISIONED_INIT_BUDGET_MS.max} ms (default ${PROVISIONED_INIT_BUDGET_MS.default})`,
} as const;

export type DeployKey = keyof typeof DEPLOY_KEYS;
export type InvokePrincipal = 'regional' | 'global';

export interface DeployProps {
  stackName: string;
  /** Absolute path of the authorizer config file. */
  configPath: string;
  account: string;
  region: string;
  /** True when no account was given or found: fine for synth, never for a deploy. */
  accountIsPlaceholder: boolean;
  datastoreIds: string[];
  memoryMb: number;
  reservedConcurrency: number;
  provisionedConcurrency: number;
  logRetention: RetentionDays;
  kmsKeyArn?: string;
  alarmTopicArn?: string;
  createDatastore: boolean;
  datastoreName?: string;
  datastoreKmsKeyArn?: string;
  datastoreLosslessStorageFormat?: LosslessStorageFormat;
  datastoreTags?: Record<string, string>;
  extraRoleArns: string[];
  rolePath: string;
  roleTrustConditions: boolean;
  invokePrincipals: InvokePrincipal[];
  denyAlarmThreshold: number;
  budgetMs?: number;
  initBudgetMs?: number;
  provisionedInitBudgetMs?: number;
}

export interface DeployInputs {
  /** Context values by key, as `app.node.tryGetContext(key)` returns them. */
  context: Readonly<Partial<Record<DeployKey, unknown>>>;
  /** Reads the props file (the app passes node:fs). */
  readFile: (path: string) => string;
  /** Relative paths given in context resolve against this directory. */
  cwd: string;
  /** The CLI's account and region from its credentials (CDK_DEFAULT_*), when it has any. */
  defaultEnv: { account?: string | undefined; region?: string | undefined };
}

export class DeployPropsError extends Error {
  override name = 'DeployPropsError';
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const KMS_KEY_ARN = /^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const SNS_TOPIC_ARN = /^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const ROLE_PATH = /^\/([\w+=,.@-]+\/)*$/;
const DATASTORE_NAME = /^[A-Za-z0-9._/#-]{1,256}$/;
const RETENTION_VALUES = new Set<number>(
  Object.values(RetentionDays).filter((value): value is number => typeof value === 'number'),
);

/** Parses and validates every key; throws one DeployPropsError naming each problem. */
export function parseDeployProps(inputs: DeployInputs): DeployProps {
  const issues: string[] = [];
  const fromFile = readPropsFile(inputs, issues);
  const raw = (key: DeployKey): unknown => {
    const value = inputs.context[key];
    return value === undefined || value === '' ? fromFile.values[key] : value;
  };
  // Paths from the props file are relative to that file; paths from context to the working directory.
  const baseFor = (key: DeployKey) =>
    inputs.context[key] === undefined && fromFile.dir !== undefined ? fromFile.dir : inputs.cwd;

  const read = {
    string(key: DeployKey, pattern: RegExp, what: string): string | undefined {
      const value = raw(key);
      if (value === undefined || value === '') return undefined;
      if (typeof value !== 'string' || !pattern.test(value)) {
        issues.push(`${key}: expected ${what}, got ${JSON.stringify(value)}`);
        return undefined;
      }
      return value;
    },
    integer(key: DeployKey, fallback: number, min: number, max: number): number {
      const value = raw(key);
      if (value === undefined || value === '') return fallback;
      const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
        issues.push(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
        return fallback;
      }
      return number;
    },
    boolean(key: DeployKey): boolean {
      const value = raw(key);
      if (value === undefined || value === '' || value === false || value === 'false') return false;
      if (value === true || value === 'true') return true;
      issues.push(`${key}: expected true or false, got ${JSON.stringify(value)}`);
      return false;
    },
    list(key: DeployKey, pattern: RegExp, what: string): string[] {
      const value = raw(key);
      if (value === undefined || value === '') return [];
      const items =
        typeof value === 'string'
          ? value.split(',').map((item) => item.trim())
          : Array.isArray(value)
            ? (value as unknown[])
            : undefined;
      if (items === undefined) {
        issues.push(`${key}: expected a comma-separated list or a JSON array, got ${JSON.stringify(value)}`);
        return [];
      }
      const bad = items.filter((item) => typeof item !== 'string' || !pattern.test(item));
      if (bad.length > 0)
        issues.push(`${key}: expected ${what}, got ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
      return [
        ...new Set(items.filter((item): item is string => typeof item === 'string' && pattern.test(item))),
      ];
    },
  };

  const stackName =
    read.string('stackName', STACK_NAME, 'a CloudFormation stack name') ?? 'HealthImagingAuthorizer';
  const configValue = raw('config');
  let configPath = resolve(inputs.cwd, DEFAULT_CONFIG_PATH);
  if (configValue !== undefined && configValue !== '') {
    if (typeof configValue === 'string') configPath = resolve(baseFor('config'), configValue);
    else issues.push(`config: expected a file path, got ${JSON.stringify(configValue)}`);
  }

  const givenAccount = read.string('account', ACCOUNT, 'a 12-digit account id');
  const cliAccount = inputs.defaultEnv.account;
  const account = givenAccount ?? (cliAccount && ACCOUNT.test(cliAccount) ? cliAccount : undefined);
  const region =
    read.string('region', REGION, 'a region such as us-east-1') ??
    inputs.defaultEnv.region ??
    PLACEHOLDER_REGION;

  const memoryMb = read.integer('memoryMb', 1024, 128, 10_240);
  const reservedConcurrency = read.integer('reservedConcurrency', 100, 1, 100_000);
  const provisionedConcurrency = read.integer('provisionedConcurrency', 0, 0, 100_000);
  if (provisionedConcurrency > reservedConcurrency) {
    issues.push(
      `provisionedConcurrency (${provisionedConcurrency}) cannot exceed reservedConcurrency (${reservedConcurrency})`,
    );
  }
  const logRetention = read.integer('logRetentionDays', RetentionDays.SIX_YEARS, 1, 9999);
  if (!RETENTION_VALUES.has(logRetention)) {
    issues.push(
      `logRetentionDays: ${logRetention} is not a CloudWatch Logs retention; use one of ${[...RETENTION_VALUES].join(', ')}`,
    );
  }

  const rawPrincipals = read.list('invokePrincipals', /^(regional|global)$/, 'regional and/or global');
  const invokePrincipals: InvokePrincipal[] =
    rawPrincipals.length > 0 ? (rawPrincipals as InvokePrincipal[]) : ['regional', 'global'];

  const kmsKeyArn = read.string(
    'kmsKeyArn',
    KMS_KEY_ARN,
    'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
  );
  const alarmTopicArn = read.string('alarmTopicArn', SNS_TOPIC_ARN, 'an SNS topic ARN');
  const datastoreName = read.string('datastoreName', DATASTORE_NAME, '1-256 characters of [A-Za-z0-9._/#-]');
  const createDatastore = read.boolean('createDatastore');
  if (datastoreName !== undefined && !createDatastore) {
    issues.push('datastoreName: only used with createDatastore=true');
  }

  const props: DeployProps = {
    stackName,
    configPath,
    account: account ?? PLACEHOLDER_ACCOUNT,
    region,
    accountIsPlaceholder: account === undefined,
    datastoreIds: read.list(
      'datastoreIds',
      DATASTORE_ID_PATTERN,
      'datastore ids (32 characters of [0-9a-z])',
    ),
    memoryMb,
    reservedConcurrency,
    provisionedConcurrency,
    logRetention: logRetention as RetentionDays,
    ...(kmsKeyArn !== undefined && { kmsKeyArn }),
    ...(alarmTopicArn !== undefined && { alarmTopicArn }),
    createDatastore,
    ...(createDatastore && { datastoreName: datastoreName ?? `${stackName}-datastore` }),
    ...readDatastoreOptions(raw, createDatastore, issues),
    extraRoleArns: read.list('extraRoleArns', ROLE_ARN, 'IAM role ARNs'),
    rolePath: read.string('rolePath', ROLE_PATH, 'an IAM path such as /healthimaging/') ?? '/healthimaging/',
    roleTrustConditions: read.boolean('roleTrustConditions'),
    invokePrincipals,
    denyAlarmThreshold: read.integer('denyAlarmThreshold', 100, 1, 1_000_000),
    ...readTimingSettings(raw, issues),
  };

  if (issues.length > 0) {
    throw new DeployPropsError(
      `invalid deployment props:\n${issues.map((issue) => `  ${issue}`).join('\n')}`,
    );
  }
  return props;
}

/**
 * The function's timing settings, checked with the function's own ranges and messages
 * (src/lambda/runtime-settings.ts): a budget that would outrun HealthImaging's second fails here.
 */
function readTimingSettings(
  raw: (key: DeployKey) => unknown,
  issues: string[],
): Pick<DeployProps, 'budgetMs' | 'initBudgetMs' | 'provisionedInitBudgetMs'> {
  const keys = {
    budgetMs: 'budgetMs',
    initBudgetMs: 'initBudgetMs',
    provisionedInitBudgetMs: 'provisionedInitBudgetMs',
  } as const;
  const environment: Record<string, string> = {};
  const given: Pick<DeployProps, 'budgetMs' | 'initBudgetMs' | 'provisionedInitBudgetMs'> = {};
  for (const key of Object.values(keys)) {
    const value = raw(key);
    if (value === undefined || value === '') continue;
    environment[SETTING_NAMES[key]] = String(value);
    given[key] = Number(value);
  }
  const problems = runtimeSettingProblems(environment);
  for (const problem of problems) issues.push(problem.message);
  return problems.length > 0 ? {} : given;
}

type DatastoreOptionKey = 'datastoreKmsKeyArn' | 'datastoreLosslessStorageFormat' | 'datastoreTags';

/**
 * The created datastore's KMS key, lossless storage format and tags, checked with the CreateDatastore
 * rules in infra/datastore-options.ts. Like datastoreName, they need createDatastore=true.
 */
function readDatastoreOptions(
  raw: (key: DeployKey) => unknown,
  createDatastore: boolean,
  issues: string[],
): Pick<DeployProps, DatastoreOptionKey> {
  const keys: DatastoreOptionKey[] = [
    'datastoreKmsKeyArn',
    'datastoreLosslessStorageFormat',
    'datastoreTags',
  ];
  const given = keys.filter((key) => raw(key) !== undefined && raw(key) !== '');
  if (!createDatastore) {
    for (const key of given) issues.push(`${key}: only used with createDatastore=true`);
    return {};
  }
  const problems: string[] = [];
  const text = (key: DatastoreOptionKey): string | undefined => {
    const value = raw(key);
    if (value === undefined || value === '') return undefined;
    if (typeof value === 'string') return value;
    problems.push(`${key}: expected a string, got ${JSON.stringify(value)}`);
    return undefined;
  };
  const kmsKeyArn = text('datastoreKmsKeyArn');
  const losslessStorageFormat = text('datastoreLosslessStorageFormat');
  let tags: Record<string, unknown> | undefined;
  if (given.includes('datastoreTags')) {
    const read = readTags(raw('datastoreTags'));
    if ('problem' in read) problems.push(`datastoreTags: ${read.problem}`);
    else tags = read.tags;
  }
  problems.push(
    ...datastoreOptionProblems(
      { kmsKeyArn, losslessStorageFormat, tags },
      {
        kmsKeyArn: 'datastoreKmsKeyArn',
        losslessStorageFormat: 'datastoreLosslessStorageFormat',
        tags: 'datastoreTags',
      },
    ),
  );
  issues.push(...problems);
  if (problems.length > 0) return {};
  return {
    ...(kmsKeyArn !== undefined && { datastoreKmsKeyArn: kmsKeyArn }),
    ...(losslessStorageFormat !== undefined && {
      datastoreLosslessStorageFormat: losslessStorageFormat as LosslessStorageFormat,
    }),
    ...(tags !== undefined &&
      Object.keys(tags).length > 0 && { datastoreTags: tags as Record<string, string> }),
  };
}

function readPropsFile(
  inputs: DeployInputs,
  issues: string[],
): { values: Partial<Record<DeployKey, unknown>>; dir?: string } {
  const path = inputs.context.props;
  if (path === undefined || path === '') return { values: {} };
  if (typeof path !== 'string') {
    issues.push(`props: expected a file path, got ${JSON.stringify(path)}`);
    return { values: {} };
  }
  const absolute = isAbsolute(path) ? path : resolve(inputs.cwd, path);
  let text: string;
  let value: unknown;
  try {
    text = inputs.readFile(absolute);
    value = JSON.parse(text);
  } catch (error) {
    issues.push(
      `props: cannot read ${absolute} as JSON (${error instanceof Error ? error.message : 'unknown error'})`,
    );
    return { values: {} };
  }
  // JSON.parse keeps the last of a repeated key: `extraRoleArns` twice would widen the role
  // allowlist behind a reviewer's back. Such a file is refused as a whole, like a config.
  const duplicates = duplicateKeyIssues(text);
  if (duplicates.length > 0) {
    for (const duplicate of duplicates)
      issues.push(`props: ${absolute}: ${duplicate.path}: ${duplicate.message}`);
    return { values: {} };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push(`props: ${absolute} must hold a JSON object`);
    return { values: {} };
  }
  const values: Partial<Record<DeployKey, unknown>> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === '$comment') continue;
    if (key === 'props' || !(key in DEPLOY_KEYS)) {
      issues.push(`props: ${absolute}: unknown key "${key}" (check for a typo)`);
      continue;
    }
    values[key as DeployKey] = item;
  }
  return { values, dir: dirname(absolute) };
}

/**
 * The deployment's settings: a committed JSON file (`-c settings=deploy/production.settings.json`),
 * validated like the authorizer configuration (valibot, every problem by JSON path, unknown and
 * repeated keys refused), so a deploy means the same thing every time. `-c key=value` overrides a
 * key for one run. Only the app reads them; constructs get the typed result.
 */

import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as v from 'valibot';
import {
  duplicateKeyIssues,
  formatConfigIssues,
  parseWithSchema,
  refinable,
  strictObject,
} from '../src/core/config/schema.ts';
import { DATASTORE_ID_PATTERN } from '../src/core/contract/healthimaging.ts';
import { nearestName } from '../src/tools/cli/closest-name.ts';
import { runtimeSettingProblems, SETTING_NAMES } from '../src/core/lambda/runtime-settings.ts';
import {
  datastoreOptionProblems,
  KMS_KEY_ARN,
  LOSSLESS_STORAGE_FORMATS,
  readTags,
} from './datastore-options.ts';
import { indented, SynthError } from './synth-errors.ts';

const DATASTORE_OPTION_KEYS = [
  'datastoreName',
  'datastoreKmsKeyArn',
  'datastoreLosslessStorageFormat',
  'datastoreTags',
] as const;

/** Offline `cdk synth` (no credentials) needs some account and region; deploys always use real ones. */
export const PLACEHOLDER_ACCOUNT = '111122223333';
export const PLACEHOLDER_REGION = 'us-east-1';
/** cdk.json's default, an example whose datastore does not exist: copy it for a real deployment. */
export const DEFAULT_SETTINGS_PATH = 'deploy/example.settings.json';
/** IAM role names are at most 64 characters; the prefix leaves room for `-AhiReadWrite`. */
const MAX_ROLE_NAME_PREFIX_LENGTH = 50;

const RETENTION_VALUES = Object.values(RetentionDays).filter(
  (value): value is number => typeof value === 'number',
);

const pattern = (regex: RegExp, message: string) => v.pipe(v.string(), v.regex(regex, message));
const integer = (min: number, max: number) => {
  const message = (issue: v.BaseIssue<unknown>) =>
    `expected an integer from ${min} to ${max}, got ${issue.received}`;
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));
};
const described = <T extends v.GenericSchema>(schema: T, text: string) => v.pipe(schema, v.description(text));

const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/**
 * Lambda takes at most 16 subnets and 5 security groups
 * (https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html); EC2 ids are 8 or 17 hex digits.
 */
const MAX_VPC_SUBNETS = 16;
const MAX_VPC_SECURITY_GROUPS = 5;
const idList = (prefix: string, max: number, what: string) =>
  v.pipe(
    v.array(
      pattern(
        new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`),
        `a ${what} such as ${prefix}-0123456789abcdef0`,
      ),
    ),
    v.minLength(1, `list at least one ${what}`),
    v.maxLength(max, `Lambda takes at most ${max}`),
    v.check((ids) => new Set(ids).size === ids.length, `lists a ${what} twice`),
  );
/** A datastore id in the `datastores` list, where "*" (every datastore) is a mistake: it stands alone. */
const listedDatastoreId = v.pipe(
  v.string(),
  v.check(
    (id) => DATASTORE_ID_PATTERN.test(id),
    (issue) =>
      issue.input === '*'
        ? '"*" stands alone: "datastores": "*" (every datastore of the account and region), not in a list'
        : 'datastore ids are 32 characters of [0-9a-z]',
  ),
);

/**
 * Every key of the settings file. A described() text is the key's meaning for the reader of this
 * file only: nothing prints it (docs/deployment.md documents the keys, by hand).
 */
const DeploySettingsSchema = v.pipe(
  strictObject({
    $comment: v.optional(v.string()),
    stackName: described(
      v.optional(
        pattern(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name'),
        'HealthImagingAuthorizer',
      ),
      'the CloudFormation stack; keep it: renaming replaces the function, and a datastore cannot follow',
    ),
    config: described(
      v.pipe(v.string(), v.minLength(1)),
      'the authorizer configuration file, relative to this settings file',
    ),
    datastores: described(
      v.optional(
        v.union(
          [
            v.literal('*'),
            v.pipe(
              v.array(listedDatastoreId),
              v.minLength(
                1,
                'list at least one datastore id, or say "*" for every datastore of the account and region',
              ),
            ),
          ],
          'a list of datastore ids, or "*" for every datastore of the account and region',
        ),
      ),
      'the datastore ids the invoke permission and the roles are scoped to, or "*" for every datastore of the account and region',
    ),
    account: v.optional(pattern(/^\d{12}$/, 'a 12-digit account id')),
    region: v.optional(pattern(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as us-east-1')),
    memoryMb: described(v.optional(integer(128, 10_240), 1024), 'function memory in MB'),
    reservedConcurrency: described(
      v.optional(integer(1, 100_000)),
      'reserved concurrency, a cost and blast-radius cap (default none: an account with a low concurrency limit cannot reserve any)',
    ),
    provisionedConcurrency: described(
      v.optional(integer(0, 100_000), 0),
      'provisioned concurrency on the alias, against cold starts',
    ),
    logRetentionDays: described(
      v.optional(v.picklist(RETENTION_VALUES, 'a CloudWatch Logs retention value'), RetentionDays.SIX_YEARS),
      'audit log retention in days',
    ),
    // The same key-ARN rule as the created datastore's key (infra/datastore-options.ts).
    kmsKeyArn: v.optional(pattern(KMS_KEY_ARN, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)')),
    alarmTopicArn: v.optional(
      pattern(/^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'an SNS topic ARN'),
    ),
    denyAlarmThreshold: v.optional(integer(1, 1_000_000), 100),
    createDatastore: v.optional(v.boolean(), false),
    datastoreName: v.optional(pattern(/^[A-Za-z0-9._/#-]{1,256}$/, '1-256 characters of [A-Za-z0-9._/#-]')),
    // Checked below with the CreateDatastore rules of infra/datastore-options.ts.
    datastoreKmsKeyArn: described(
      v.optional(v.string()),
      'customer-managed KMS key ARN (key/<id>, not an alias) that encrypts the created datastore',
    ),
    datastoreLosslessStorageFormat: described(
      v.optional(v.string()),
      `lossless storage format of the created datastore: ${LOSSLESS_STORAGE_FORMATS.join(' or ')}`,
    ),
    datastoreTags: described(
      v.optional(v.record(v.string(), v.unknown())),
      'tags of the created datastore: a JSON object (-c: JSON or key=value,key=value)',
    ),
    extraRoleArns: v.optional(v.array(pattern(ROLE_ARN, 'an IAM role ARN')), () => [] as string[]),
    rolePath: v.optional(
      pattern(/^\/([\w+=,.@-]+\/)*$/, 'an IAM path such as /healthimaging/'),
      '/healthimaging/',
    ),
    roleNamePrefix: v.optional(
      pattern(
        new RegExp(`^[\\w+=,.@-]{1,${MAX_ROLE_NAME_PREFIX_LENGTH}}$`),
        `1-${MAX_ROLE_NAME_PREFIX_LENGTH} characters of [A-Za-z0-9+=,.@_-]`,
      ),
    ),
    roleTrustConditions: v.optional(v.boolean(), false),
    invokePrincipals: v.optional(
      v.pipe(v.array(v.picklist(['regional', 'global'] as const)), v.minLength(1)),
      () => ['regional', 'global'] as ('regional' | 'global')[],
    ),
    configDelivery: described(
      v.optional(v.picklist(['bundled', 'parameter'] as const), 'bundled'),
      'bundled: the config ships with each function version (a change is a deploy); parameter: an SSM parameter read at run time',
    ),
    auditSubject: v.optional(v.picklist(['hash', 'plain', 'omit'] as const), 'hash'),
    vpcSubnetIds: described(
      v.optional(idList('subnet', MAX_VPC_SUBNETS, 'subnet id')),
      'run the function in these subnets (with vpcSecurityGroupIds); they need a route to the IdPs and, with configDelivery parameter, to SSM',
    ),
    vpcSecurityGroupIds: described(
      v.optional(idList('sg', MAX_VPC_SECURITY_GROUPS, 'security group id')),
      'the function’s security groups in the VPC (with vpcSubnetIds); they must allow HTTPS out to the IdPs',
    ),
    caBundle: described(
      v.optional(v.pipe(v.string(), v.minLength(1))),
      'a PEM file of CA certificates trusted for discovery and JWKS beside the default CAs, relative to this settings file',
    ),
    budgetMs: v.optional(v.number()),
    initBudgetMs: v.optional(v.number()),
    provisionedInitBudgetMs: v.optional(v.number()),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!refinable(dataset)) return;
    const settings = dataset.value;
    const at = (key: string) =>
      [
        {
          type: 'object' as const,
          origin: 'value' as const,
          input: settings,
          key,
          value: settings[key as keyof typeof settings],
        },
      ] as [v.IssuePathItem];
    // Account-wide scope is never a default: "*" must be said.
    if (settings.datastores === undefined && !settings.createDatastore) {
      addIssue({
        message:
          'required: list the datastore ids the stack serves, or "*" for every datastore of the account and ' +
          'region (an explicit choice), or set createDatastore',
        path: at('datastores'),
      });
    }
    for (const key of DATASTORE_OPTION_KEYS) {
      if (settings[key] !== undefined && !settings.createDatastore) {
        addIssue({ message: 'only used with createDatastore: true', path: at(key) });
      }
    }
    if (settings.createDatastore) {
      const keys = {
        kmsKeyArn: 'datastoreKmsKeyArn',
        losslessStorageFormat: 'datastoreLosslessStorageFormat',
        tags: 'datastoreTags',
      } as const;
      const problems = datastoreOptionProblems({
        kmsKeyArn: settings.datastoreKmsKeyArn,
        losslessStorageFormat: settings.datastoreLosslessStorageFormat,
        tags: settings.datastoreTags,
      });
      for (const { option, message } of problems) addIssue({ message, path: at(keys[option]) });
    }
    if ((settings.vpcSubnetIds === undefined) !== (settings.vpcSecurityGroupIds === undefined)) {
      const missing = settings.vpcSubnetIds === undefined ? 'vpcSubnetIds' : 'vpcSecurityGroupIds';
      const given = missing === 'vpcSubnetIds' ? 'vpcSecurityGroupIds' : 'vpcSubnetIds';
      addIssue({ message: `required with ${given}: a function in a VPC needs both`, path: at(missing) });
    }
    if (
      settings.reservedConcurrency !== undefined &&
      settings.provisionedConcurrency > settings.reservedConcurrency
    ) {
      addIssue({
        message: `cannot exceed reservedConcurrency (${settings.reservedConcurrency})`,
        path: at('provisionedConcurrency'),
      });
    }
    if (settings.roleNamePrefix === undefined && settings.stackName.length > MAX_ROLE_NAME_PREFIX_LENGTH) {
      addIssue({
        message: `the stack name is over ${MAX_ROLE_NAME_PREFIX_LENGTH} characters: set roleNamePrefix (role names are at most 64)`,
        path: at('stackName'),
      });
    }
    // Checked with the function's own ranges; each problem is filed under the setting that caused it.
    const timingKeys = ['budgetMs', 'initBudgetMs', 'provisionedInitBudgetMs'] as const;
    const timing: Record<string, string> = {};
    for (const key of timingKeys) {
      if (settings[key] !== undefined) timing[SETTING_NAMES[key]] = String(settings[key]);
    }
    for (const problem of runtimeSettingProblems(timing)) {
      const key = timingKeys.find((name) => SETTING_NAMES[name] === problem.name);
      addIssue({ message: problem.message, ...(key !== undefined && { path: at(key) }) });
    }
  }),
);

type DeploySettingsFile = v.InferOutput<typeof DeploySettingsSchema>;
type DeploySettingKey = Exclude<keyof DeploySettingsFile, '$comment'>;

export interface DeploySettings extends Omit<
  DeploySettingsFile,
  '$comment' | 'config' | 'account' | 'region' | 'caBundle'
> {
  /** Absolute path of the authorizer configuration file. */
  configPath: string;
  /** Absolute path of the CA bundle file (`caBundle`), when set. */
  caBundlePath?: string;
  /** The settings file these came from (for messages). */
  settingsPath: string;
  account: string;
  region: string;
  /** True when no account was given or found: fine for synth, never for a deploy. */
  accountIsPlaceholder: boolean;
  roleNamePrefix: string;
}

export interface DeployInputs {
  /**
   * The app's whole context, as CDK returns it: `-c settings=…` (else cdk.json's default), any
   * `-c key=value` overrides, and CDK's own keys (a key close to a setting's name is refused).
   */
  context: Readonly<Record<string, unknown>>;
  readFile: (path: string) => string;
  /** Relative paths given in context resolve against this directory. */
  cwd: string;
  /** The CLI's account and region from its credentials (CDK_DEFAULT_*), when it has any. */
  defaultEnv: { account?: string | undefined; region?: string | undefined };
}

export class DeploySettingsError extends SynthError {
  override name = 'DeploySettingsError';
}

class ContextValueError extends Error {}

/** How a `-c key=value` string becomes the JSON value the file would hold. */
const CONTEXT_KINDS: Readonly<
  Record<DeploySettingKey, 'string' | 'integer' | 'boolean' | 'list' | 'datastores' | 'tags'>
> = {
  stackName: 'string',
  config: 'string',
  datastores: 'datastores',
  account: 'string',
  region: 'string',
  memoryMb: 'integer',
  reservedConcurrency: 'integer',
  provisionedConcurrency: 'integer',
  logRetentionDays: 'integer',
  kmsKeyArn: 'string',
  alarmTopicArn: 'string',
  denyAlarmThreshold: 'integer',
  createDatastore: 'boolean',
  datastoreName: 'string',
  datastoreKmsKeyArn: 'string',
  datastoreLosslessStorageFormat: 'string',
  datastoreTags: 'tags',
  extraRoleArns: 'list',
  rolePath: 'string',
  roleNamePrefix: 'string',
  roleTrustConditions: 'boolean',
  invokePrincipals: 'list',
  configDelivery: 'string',
  auditSubject: 'string',
  budgetMs: 'integer',
  initBudgetMs: 'integer',
  provisionedInitBudgetMs: 'integer',
  vpcSubnetIds: 'list',
  vpcSecurityGroupIds: 'list',
  caBundle: 'string',
};

export const DEPLOY_SETTING_KEYS = Object.keys(CONTEXT_KINDS) as DeploySettingKey[];

/**
 * A context key that is no setting but reads like one (`memoryMB`, `memoryMbb`): a typo that would
 * otherwise be ignored, deploying the file's value. Context also carries CDK's own keys
 * (`@aws-cdk/…`, `aws:cdk:…`, `cli-telemetry`, lookups such as `availability-zones:…`) and anything
 * a team adds; only a key close to a setting's name (case aside, or a small edit distance) is one.
 */
function misspeltSettingProblems(keys: readonly string[]): string[] {
  const known = ['settings', ...DEPLOY_SETTING_KEYS];
  return keys.flatMap((key) => {
    if (known.includes(key) || /[:/@]/.test(key)) return [];
    const meant = nearestName(key, known);
    return meant === undefined ? [] : [`-c ${key}: unknown setting (did you mean ${meant}?)`];
  });
}

function fromContext(key: DeploySettingKey, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  switch (CONTEXT_KINDS[key]) {
    case 'integer':
      return /^-?\d+$/.test(value) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'list':
      return value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    case 'datastores':
      return value.trim() === '*'
        ? '*'
        : value
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean);
    case 'tags': {
      const read = readTags(value);
      if ('problem' in read) throw new ContextValueError(read.problem);
      return read.tags;
    }
    default:
      return value;
  }
}

/** A path as the user knows it, for messages: relative to `cwd` when inside it, else absolute. */
export function shownPath(path: string, cwd: string): string {
  const inside = relative(cwd, path);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

/**
 * Reads, validates and resolves the settings; throws one DeploySettingsError naming every problem,
 * one indented line each under the file's path (relative to the working directory).
 */
export function parseDeploySettings(inputs: DeployInputs): DeploySettings {
  const given = inputs.context['settings'];
  const named = typeof given === 'string' && given !== '' ? given : DEFAULT_SETTINGS_PATH;
  const settingsPath = isAbsolute(named) ? named : resolve(inputs.cwd, named);
  const settingsFile = shownPath(settingsPath, inputs.cwd);
  const overridden = new Set<string>();
  const contextProblems = misspeltSettingProblems(Object.keys(inputs.context));
  const fail = (problems: readonly string[]): never => {
    const what =
      overridden.size > 0 || contextProblems.length > 0
        ? `${settingsFile} with the -c overrides`
        : settingsFile;
    throw new DeploySettingsError(`${what} is invalid:\n${indented(problems)}`);
  };

  let text: string;
  try {
    text = inputs.readFile(settingsPath);
  } catch {
    throw new DeploySettingsError(
      `deployment settings not found: ${settingsFile} (pass -c settings=path/to/settings.json)`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail([`$: not valid JSON: ${error instanceof Error ? error.message : 'unknown error'}`]);
  }
  const duplicates = duplicateKeyIssues(text);
  if (duplicates.length > 0) fail(duplicates.map((issue) => formatConfigIssues([issue])));

  // Context overrides one run's values; the file stays what a later deploy reads.
  const fileObject = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  const merged: Record<string, unknown> = { ...fileObject };
  for (const key of DEPLOY_SETTING_KEYS) {
    const override = inputs.context[key];
    if (override === undefined || override === '') continue;
    overridden.add(key);
    try {
      merged[key] = fromContext(key, override);
    } catch (error) {
      if (!(error instanceof ContextValueError)) throw error;
      contextProblems.push(`-c ${key}: ${error.message}`);
    }
  }
  if (contextProblems.length > 0) fail(contextProblems);
  const parsed = parseWithSchema(DeploySettingsSchema, fileObject === undefined ? value : merged);
  if (!parsed.ok) {
    fail(
      parsed.issues.map((issue) => {
        const key = /^\$\.(\w+)/.exec(issue.path)?.[1];
        return key !== undefined && overridden.has(key)
          ? `-c ${key}: ${issue.message}`
          : `${issue.path}: ${issue.message}`;
      }),
    );
  }
  const settings = (parsed as { ok: true; output: DeploySettingsFile }).output;

  // A path from the file is relative to the file; one from -c to the working directory.
  const base = (key: 'config' | 'caBundle') => (overridden.has(key) ? inputs.cwd : dirname(settingsPath));
  const cliAccount = inputs.defaultEnv.account;
  const account = settings.account ?? (cliAccount && /^\d{12}$/.test(cliAccount) ? cliAccount : undefined);
  const { $comment: _comment, config, account: _account, region, caBundle, ...rest } = settings;
  return {
    ...rest,
    configPath: resolve(base('config'), config),
    ...(caBundle === undefined ? {} : { caBundlePath: resolve(base('caBundle'), caBundle) }),
    settingsPath,
    account: account ?? PLACEHOLDER_ACCOUNT,
    region: region ?? inputs.defaultEnv.region ?? PLACEHOLDER_REGION,
    accountIsPlaceholder: account === undefined,
    roleNamePrefix: settings.roleNamePrefix ?? settings.stackName,
  };
}

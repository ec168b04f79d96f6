/**
 * The reusable L3 construct: everything a HealthImaging datastore needs from its Lambda authorizer.
 * The bundled function runs behind an alias (`live`) whose ARN the datastore keeps for good; around
 * it the synth-checked config, invoke permission, DICOMweb roles, audit log, change watch, alarms
 * and, optionally, the datastore itself. Typed props; it reads no context, file or environment.
 */

import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  AssetHashType,
  DockerImage,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import type { ISecurityGroup, ISubnet } from 'aws-cdk-lib/aws-ec2';
import { Effect, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import {
  Alias,
  Architecture,
  type CfnFunction,
  CfnPermission,
  Code,
  Function as LambdaFunction,
  type IVersion,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ParameterTier, StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { AuthorizerConfig } from '../src/core/config/schema.ts';
import {
  type CaBundle,
  certificatesOutsideValidity,
  describeCaCertificate,
  parseCaBundle,
} from '../src/core/keys/ca-bundle.ts';
import { acknowledgeWildcardResource } from './acknowledge-wildcard-resource.ts';
import { AuthorizerAlarms } from './authorizer-alarms.ts';
import { type AllowedRole, checkAuthorizerConfig } from './check-authorizer-config.ts';
import type { DatastoreOptions } from './datastore-options.ts';
import { DicomWebRoles, dicomWebRoleNames } from './dicomweb-roles.ts';
import { HealthImagingDatastore } from './healthimaging-datastore.ts';
import { healthImagingArns } from './healthimaging-arns.ts';
import { OutOfBandChangeWatch } from './out-of-band-change-watch.ts';
import { runtimeSettingProblems, SETTING_NAMES } from '../src/core/lambda/runtime-settings.ts';
import { indented, SynthError } from './synth-errors.ts';

/** The repository's dist/ (the esbuild output), next to infra/. */
export const DEFAULT_DIST_DIRECTORY = fileURLToPath(new URL('../dist', import.meta.url));

/** Only the authorizer bundle goes into the function's asset: not the CLI, the custom resources or metadata. */
const AUTHORIZER_ASSET_FILES = ['handler.mjs', 'handler.mjs.LEGAL.txt'];
const AUTHORIZER_ASSET_DIRECTORIES = ['chunks'];
/** Everything but those: the asset without bundling. */
const AUTHORIZER_ASSET_EXCLUDE = [
  '*',
  ...AUTHORIZER_ASSET_FILES.map((name) => `!${name}`),
  ...AUTHORIZER_ASSET_DIRECTORIES.flatMap((name) => [`!${name}`, `!${name}/**`]),
];
/**
 * Where a bundled config lands: the code root, /var/task (LAMBDA_TASK_ROOT,
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
const BUNDLED_CONFIG_NAME = 'authorizer-config.json';
const BUNDLED_CONFIG_FILE = `/var/task/${BUNDLED_CONFIG_NAME}`;

/** The CA bundle beside the config, read through AUTHORIZER_CA_BUNDLE_FILE. */
const CA_BUNDLE_NAME = 'ca-bundle.pem';
const CA_BUNDLE_FILE = `/var/task/${CA_BUNDLE_NAME}`;

/**
 * The function's code: the bundle, plus (when any) files written into its root — the minified
 * config, the CA bundle — staged by CDK's local bundling, so no Docker runs at synth. The asset hash
 * is the output's, so a changed config or bundle is a new asset and a new function version.
 */
function functionCode(distDirectory: string, files: Readonly<Record<string, string>>): Code {
  if (Object.keys(files).length === 0)
    return Code.fromAsset(distDirectory, { exclude: AUTHORIZER_ASSET_EXCLUDE });
  return Code.fromAsset(distDirectory, {
    exclude: AUTHORIZER_ASSET_EXCLUDE,
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always succeeds.
      image: DockerImage.fromRegistry('scratch'),
      local: {
        tryBundle(outputDir) {
          copyBundle(distDirectory, outputDir);
          for (const [name, text] of Object.entries(files)) writeFileSync(join(outputDir, name), text);
          return true;
        },
      },
    },
  });
}

/** The asset's files and directories, those present: exactly what AUTHORIZER_ASSET_EXCLUDE keeps. */
function copyBundle(distDirectory: string, outputDir: string): void {
  for (const name of [...AUTHORIZER_ASSET_FILES, ...AUTHORIZER_ASSET_DIRECTORIES]) {
    if (existsSync(join(distDirectory, name))) {
      cpSync(join(distDirectory, name), join(outputDir, name), { recursive: true });
    }
  }
}

export interface HealthImagingAuthorizerProps {
  /** The authorizer configuration, as JSON text. Validated at synth with the handler's schema. */
  readonly configJson: string;
  /** Names the config in synth errors, e.g. its file path. */
  readonly configSource?: string;
  /**
   * Datastores that may invoke the authorizer and that the roles may act on: their ids, or `'*'` for
   * every datastore of this account and region (an explicit choice, never a default). Required
   * unless `createDatastore` is set (the created datastore is always in scope).
   */
  readonly datastores?: readonly string[] | '*';
  /**
   * How the function gets its configuration. `bundled` (default): the config ships in each function
   * version's code, so a change is a reviewed deploy, shows as a new version and rolls back with it.
   * `parameter`: an SSM parameter read at run time (changes apply without a deploy; watched for
   * writes made outside a deploy). See docs/adr/0005-config-ships-with-the-function-version.md.
   */
  readonly configDelivery?: 'bundled' | 'parameter';
  /** Prefix of the two role names (`<prefix>-AhiReadOnly`, `<prefix>-AhiReadWrite`). Default the stack name. */
  readonly roleNamePrefix?: string;
  /**
   * Create the OIDC-enabled datastore with the alias ARN, and optionally a customer-managed KMS key,
   * the lossless storage format and tags (infra/datastore-options.ts). None of them can change after
   * creation. Default: none (create it with the CLI).
   */
  readonly createDatastore?: { readonly datastoreName: string } & DatastoreOptions;
  /** Default 1024 MB: faster RSA verification and init. */
  readonly memorySize?: number;
  /** Default 3 s: a little above the handler's 800 ms budget, which answers long before. */
  readonly timeout?: Duration;
  /**
   * How audit lines name the token's subject: `hash` (default) logs a keyed hash of issuer and
   * subject, with a key this construct generates in Secrets Manager; `plain` the subject as is;
   * `omit` nothing. See docs/adr/0004-audit-subject-as-keyed-hash.md.
   */
  readonly auditSubject?: 'hash' | 'plain' | 'omit';
  /** AUTHORIZER_BUDGET_MS: the internal deadline per invocation, 50-900 ms. Default 800 (set by the function). */
  readonly budgetMs?: number;
  /** AUTHORIZER_INIT_BUDGET_MS: an on-demand init's wait, 0 to budget − 50 ms. Default half the budget. */
  readonly initBudgetMs?: number;
  /** AUTHORIZER_PROVISIONED_INIT_BUDGET_MS: a provisioned-concurrency init's wait, 0-9000 ms. Default 5000. */
  readonly provisionedInitBudgetMs?: number;
  /**
   * The cost and blast-radius cap (over it HealthImaging requests fail, see the Throttles alarm).
   * Default none: an account with a low concurrency limit cannot reserve any, and would fail to deploy.
   */
  readonly reservedConcurrency?: number;
  /** Provisioned concurrency on the alias, HealthImaging's advice against cold starts. Default 0. */
  readonly provisionedConcurrency?: number;
  /** The audit trail's retention. Default six years (HIPAA documentation retention, 45 CFR 164.316). */
  readonly logRetention?: RetentionDays;
  /**
   * Encrypts the audit log group. Its key policy must allow `logs.<region>.amazonaws.com`. Default: a
   * key created here, rotated yearly and retained with the logs.
   */
  readonly logEncryptionKey?: IKey;
  /** Notified by every alarm. Default: alarms without actions. */
  readonly alarmTopic?: ITopic;
  /** Denied decisions per 5 minutes that raise the deny-spike alarm. Default 100. */
  readonly denyAlarmThreshold?: number;
  /** Role ARNs the function may return beyond the two it creates (e.g. existing roles). */
  readonly additionalRoleArns?: readonly string[];
  /** IAM path of the created roles. Default `/healthimaging/`. */
  readonly rolePath?: string;
  /** Require aws:SourceAccount / aws:SourceArn on the roles' trust. Default false (unconfirmed that AHI sends them). */
  readonly roleTrustConditions?: boolean;
  /**
   * Service principals granted invoke. AHI's docs name the regional form, AWS's sample the global one;
   * both are granted until one is confirmed. Default both.
   */
  readonly invokePrincipals?: readonly ('regional' | 'global')[];
  /** The esbuild output directory. Default the repository's dist/. */
  readonly distDirectory?: string;
  /** Default Node.js 24 (the latest Lambda runtime this CDK knows; scripts/build.mjs targets node24). */
  readonly runtime?: Runtime;
  /** With `configDelivery: 'parameter'`. Default `/healthimaging-authorizer/<stack>/<id>/config`. */
  readonly parameterName?: string;
  /**
   * Run the function in these subnets (with `securityGroups`), e.g. to reach an identity provider
   * inside the hospital network over VPN or Direct Connect. Lambda then needs a route from them to
   * every IdP and, with `configDelivery: 'parameter'`, to SSM (a NAT gateway or interface endpoints):
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html. Default: no VPC.
   */
  readonly vpcSubnets?: readonly ISubnet[];
  /** The function's security groups in the VPC (with `vpcSubnets`); they must allow HTTPS out. */
  readonly securityGroups?: readonly ISecurityGroup[];
  /**
   * PEM CA certificates the discovery and JWKS fetches trust beside the default CAs (an IdP whose
   * certificate a private CA signed). Validated at synth; shipped in the function's code and named
   * by AUTHORIZER_CA_BUNDLE_FILE.
   */
  readonly caBundlePem?: string;
  /** Names the CA bundle in synth errors, e.g. its file path. */
  readonly caBundleSource?: string;
}

/**
 * A prop the function cannot be deployed with (a timing setting outside the function's range, too
 * much configuration, a missing build): infra/app.ts prints its message without a stack trace.
 */
export class AuthorizerSettingsError extends SynthError {
  override name = 'AuthorizerSettingsError';
}

export class HealthImagingAuthorizer extends Construct {
  readonly function: LambdaFunction;
  /** The alias HealthImaging invokes; new code ships behind it. */
  readonly alias: Alias;
  /** Give this to the datastore (`lambdaAuthorizerArn`): the alias ARN, stable across deployments. */
  readonly lambdaAuthorizerArn: string;
  /** Present with `configDelivery: 'parameter'`. */
  readonly configParameter?: StringParameter;
  readonly config: AuthorizerConfig;
  readonly logGroup: LogGroup;
  readonly logEncryptionKey: IKey;
  readonly roles: DicomWebRoles;
  /** What AUTHORIZER_ALLOWED_ROLE_ARNS holds: the only roles the function can ever return. */
  readonly allowedRoleArns: readonly string[];
  readonly alarms: AuthorizerAlarms;
  /** Records and alarms on changes to the function or its config made outside a deploy. */
  readonly changeWatch: OutOfBandChangeWatch;
  /** Present with `createDatastore`. */
  readonly datastore?: HealthImagingDatastore;
  /** The key of the audit subject hash (auditSubject `hash`). */
  readonly auditHashKey?: Secret;

  constructor(scope: Construct, id: string, props: HealthImagingAuthorizerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const arns = healthImagingArns(this);
    const distDirectory = props.distDirectory ?? DEFAULT_DIST_DIRECTORY;
    const runtime = props.runtime ?? Runtime.NODEJS_24_X;
    const reservedConcurrency = props.reservedConcurrency;
    const provisionedConcurrency = props.provisionedConcurrency ?? 0;
    if (reservedConcurrency !== undefined && provisionedConcurrency > reservedConcurrency) {
      throw new AuthorizerSettingsError(
        `provisionedConcurrency (${provisionedConcurrency}) cannot exceed reservedConcurrency (${reservedConcurrency})`,
      );
    }
    if (!existsSync(join(distDirectory, 'handler.mjs'))) {
      throw new AuthorizerSettingsError(
        `${join(distDirectory, 'handler.mjs')} is missing: run \`npm run build\` first`,
      );
    }
    if (props.datastores === undefined && props.createDatastore === undefined) {
      throw new AuthorizerSettingsError(
        'datastores is required: list the datastore ids the authorizer serves, or "*" for every datastore ' +
          'of the account and region (an explicit choice), or set createDatastore',
      );
    }
    const inVpc = checkVpcProps(props);
    const caBundle = props.caBundlePem === undefined ? undefined : this.checkCaBundle(props);
    const namePrefix = `/healthimaging-authorizer/${stack.stackName}/${id}`;
    // Log groups are kept when the stack is deleted; a suffix from this stack's id keeps a later stack
    // of the same name from colliding with them ("already exists") while the old audit trail stays.
    const logSuffix = stackIncarnation(stack);
    // Role names are unique per account whatever their path: two stacks must not share them.
    const roleNames = dicomWebRoleNames(props.roleNamePrefix ?? stack.stackName);

    // Roles and allowlist first: the config is checked against the ARNs the function will accept.
    const rolePath = props.rolePath ?? '/healthimaging/';
    const readOnlyRoleArn = arns.role(rolePath, roleNames.readOnly);
    const readWriteRoleArn = arns.role(rolePath, roleNames.readWrite);
    this.allowedRoleArns = [
      ...new Set([readOnlyRoleArn, readWriteRoleArn, ...(props.additionalRoleArns ?? [])]),
    ];
    const checked = checkAuthorizerConfig(
      props.configJson,
      arns.resolved
        ? this.allowedRoleArns
        : this.allowedRoleArns.map((arn) => allowedRolePattern(arn, rolePath)),
      props.configSource,
    );
    this.config = checked.config;
    // The lint's warnings print with the synth (as `ahi-authorizer check` prints them); problems threw.
    checked.warnings.forEach((warning, index) => {
      Annotations.of(this).addWarningV2(`healthimaging-authorizer:configLint${index}`, warning);
    });
    if (!arns.resolved) {
      Annotations.of(this).addWarningV2(
        'healthimaging-authorizer:accountUnknown',
        'The stack account is only known at deploy time: config role ARNs were checked by path and name only. ' +
          'Roles in another account are denied at run time (internal_error).',
      );
    }

    // The config minified: it holds no secret (issuer URLs, audiences, claim values, role ARNs).
    const configValue = JSON.stringify(JSON.parse(props.configJson));
    const configDelivery = props.configDelivery ?? 'bundled';
    const parameterName = props.parameterName ?? `${namePrefix}/config`;
    if (configDelivery === 'parameter') {
      // CloudFormation cannot write SecureString; the config holds no secret.
      const configBytes = Buffer.byteLength(configValue);
      if (configBytes > 8192) {
        throw new AuthorizerSettingsError(
          `the authorizer config is ${configBytes} bytes minified; SSM parameters hold at most 8192`,
        );
      }
      this.configParameter = new StringParameter(this, 'Config', {
        parameterName,
        stringValue: configValue,
        description:
          'HealthImaging OIDC authorizer configuration (written by cdk deploy from the config file)',
        tier: configBytes > 4096 ? ParameterTier.ADVANCED : ParameterTier.STANDARD,
      });
    }

    const logRetention = props.logRetention ?? RetentionDays.SIX_YEARS;
    const logGroupName = `${namePrefix}/audit-${logSuffix}`;
    this.logEncryptionKey = props.logEncryptionKey ?? this.createLogKey(namePrefix);
    this.logGroup = new LogGroup(this, 'AuditLog', {
      logGroupName,
      retention: logRetention,
      encryptionKey: this.logEncryptionKey,
      // The HIPAA audit trail outlives the stack, but not a first create that rolled back (it holds
      // nothing then), so the same deploy can simply be run again: CloudFormation's
      // RetainExceptOnCreate, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    // Customer-managed, resource-scoped permissions only: its own log group and the one parameter.
    // No sts:*, no medical-imaging:* (HealthImaging assumes the roles, not this function).
    const executionPolicy = new ManagedPolicy(this, 'ExecutionPolicy', {
      description:
        'HealthImaging OIDC authorizer: write its audit log (and read its configuration parameter)',
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
        ...(configDelivery === 'parameter'
          ? [
              new PolicyStatement({
                effect: Effect.ALLOW,
                actions: ['ssm:GetParameter'],
                // Exactly this parameter (no path wildcard); a plain String, so no kms:Decrypt.
                resources: [arns.parameter(parameterName)],
              }),
            ]
          : []),
        ...(inVpc ? [vpcAccessStatement()] : []),
      ],
    });
    if (inVpc) {
      acknowledgeWildcardResource(
        executionPolicy,
        ['*'],
        '*',
        'The network-interface actions of AWSLambdaVPCAccessExecutionRole, which Lambda needs to attach the ' +
          'function to its subnets (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html): ' +
          'ec2:DescribeNetworkInterfaces works only on "*", and the interfaces Lambda creates have no ARN before ' +
          'they exist.',
      );
    }
    const executionRole = new Role(this, 'ExecutionRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the HealthImaging OIDC authorizer',
      managedPolicies: [executionPolicy],
    });

    this.function = new LambdaFunction(this, 'Function', {
      description: 'HealthImaging OIDC authorizer: verifies bearer JWTs and returns the DICOMweb role',
      code: functionCode(distDirectory, {
        ...(configDelivery === 'bundled' && { [BUNDLED_CONFIG_NAME]: configValue }),
        ...(caBundle && { [CA_BUNDLE_NAME]: caBundle.certificates.map((c) => c.pem).join('') }),
      }),
      handler: 'handler.handler',
      runtime,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(3),
      ...(reservedConcurrency !== undefined && { reservedConcurrentExecutions: reservedConcurrency }),
      role: executionRole,
      logGroup: this.logGroup,
      // Superseded versions are kept, so rolling the alias back to one works (with its config, when
      // bundled): `aws lambda update-alias --function-version N`.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
      environment: checkedEnvironment({
        ...(this.configParameter
          ? { AUTHORIZER_CONFIG_PARAMETER: this.configParameter.parameterName }
          : { AUTHORIZER_CONFIG_FILE: BUNDLED_CONFIG_FILE }),
        AUTHORIZER_ALLOWED_ROLE_ARNS: this.allowedRoleArns.join(','),
        ...(caBundle && { [SETTING_NAMES.caBundleFile]: CA_BUNDLE_FILE }),
        ...timingEnvironment(props),
        ...this.auditSubjectEnvironment(props.auditSubject ?? 'hash'),
      }),
    });
    if (inVpc) {
      // Lambda's VpcConfig takes only subnet and security group ids
      // (https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html):
      // set on the function resource, so no VPC needs to be looked up (no credentials at synth). The
      // execution policy above holds the network-interface permissions, and the function already
      // depends on it: Lambda checks them when it creates the function.
      (this.function.node.defaultChild as CfnFunction).vpcConfig = {
        subnetIds: (props.vpcSubnets ?? []).map((subnet) => subnet.subnetId),
        securityGroupIds: (props.securityGroups ?? []).map((group) => group.securityGroupId),
      };
    }
    this.function.node.addDependency(executionPolicy);
    this.acknowledgeFunctionFindings(reservedConcurrency === undefined, inVpc);

    this.alias = new Alias(this, 'Alias', {
      aliasName: 'live',
      // The cast only bridges aws-cdk-lib's typings under exactOptionalPropertyTypes (Version is an IVersion).
      version: this.function.currentVersion as IVersion,
      description: 'The stable ARN HealthImaging invokes; each deploy moves it to the new version',
      ...(provisionedConcurrency > 0 && { provisionedConcurrentExecutions: provisionedConcurrency }),
    });
    this.lambdaAuthorizerArn = this.alias.functionArn;

    // Only HealthImaging, only for this account's datastores, only on the alias: a direct invoke would
    // make the function an oracle for token validity. No function URL. AHI asks for this resource-based
    // policy, "optionally" restricted to the datastore ARN, and keeps aws:SourceAccount:
    // https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-requirements.html
    //
    // With createDatastore the permission names every datastore of this account and region, not the new
    // one: it must exist before CreateDatastore runs (the datastore depends on it, below), and the new
    // datastore's ARN only exists after. The alternative, an account-wide permission for the creation
    // plus an exact-ARN one after it, grants exactly the same (a policy allows the union of its
    // statements) with two more resources. What the account-wide scope concedes: another datastore of
    // this account created with this alias as its authorizer could invoke it (as with "datastores": "*");
    // the roles the function returns still act on this stack's datastore only.
    const listed = props.datastores === '*' ? [] : (props.datastores ?? []);
    const invokeScope =
      props.createDatastore || props.datastores === '*'
        ? [arns.anyDatastore()]
        : listed.map((datastoreId) => arns.datastore(datastoreId));
    const invokePermissions = this.grantInvokeToHealthImaging(
      props.invokePrincipals ?? ['regional', 'global'],
      invokeScope,
    );

    if (props.createDatastore) {
      this.datastore = new HealthImagingDatastore(this, 'Datastore', {
        ...props.createDatastore,
        lambdaAuthorizerArn: this.lambdaAuthorizerArn,
        codeDirectory: join(distDirectory, 'custom-resources'),
        runtime,
        logGroupName: `${namePrefix}/datastore-provisioning-${logSuffix}`,
        logRetention,
        logEncryptionKey: this.logEncryptionKey,
        dependsOn: invokePermissions,
      });
    }

    const datastoreArns = [
      ...listed.map((datastoreId) => arns.datastore(datastoreId)),
      ...(this.datastore ? [this.datastore.datastoreArn] : []),
    ];
    const datastoreScope =
      props.datastores === '*' || datastoreArns.length === 0 ? [arns.anyDatastore()] : datastoreArns;

    this.roles = new DicomWebRoles(this, 'Roles', {
      path: rolePath,
      names: roleNames,
      datastoreArns: datastoreScope,
      // The created datastore comes last (below): the roles' boundary and trust cannot wait for its ARN.
      ...(this.datastore && { ceilingArns: [arns.anyDatastore()] }),
      trustConditions: props.roleTrustConditions ?? false,
    });

    this.changeWatch = new OutOfBandChangeWatch(this, 'ChangeWatch', {
      function: this.function,
      ...(this.configParameter && { parameterName }),
      logGroupName: `${namePrefix}/changes-${logSuffix}`,
      logRetention,
      logEncryptionKey: this.logEncryptionKey,
      ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
    });

    this.alarms = new AuthorizerAlarms(this, 'Alarms', {
      function: this.function,
      alias: this.alias,
      ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
      denyThreshold: props.denyAlarmThreshold ?? 100,
      provisionedConcurrency,
    });

    // CreateDatastore cannot be undone (the datastore is kept, bound to this alias for good), so it runs
    // after everything else that could fail a first deploy: named roles, the change watch, the alarms.
    // Only the role policies naming its ARN come after it.
    this.datastore?.resource.node.addDependency(
      this.roles.readOnly,
      this.roles.readWrite,
      this.changeWatch,
      this.alarms,
      this.function,
      this.alias,
    );
  }

  /** HealthImaging's invoke permissions on the alias: one per principal and source ARN. */
  private grantInvokeToHealthImaging(
    principals: readonly ('regional' | 'global')[],
    sourceArns: readonly string[],
  ): CfnPermission[] {
    const arns = healthImagingArns(this);
    const permissions: CfnPermission[] = [];
    for (const kind of principals) {
      const principal =
        kind === 'regional'
          ? `medical-imaging.${arns.region}.amazonaws.com`
          : 'medical-imaging.amazonaws.com';
      sourceArns.forEach((sourceArn, index) => {
        const id = `InvokeByHealthImaging${kind === 'regional' ? 'Regional' : 'Global'}${index}`;
        this.alias.addPermission(id, {
          principal: new ServicePrincipal(principal),
          action: 'lambda:InvokeFunction',
          sourceAccount: arns.account,
          sourceArn,
        });
        // addPermission creates the CfnPermission under the alias (none when the environment is unclear).
        const permission = this.alias.node.tryFindChild(id);
        if (permission instanceof CfnPermission) permissions.push(permission);
      });
    }
    return permissions;
  }

  /** A key only CloudWatch Logs may use, and only for this construct's log groups. */
  private createLogKey(namePrefix: string): Key {
    const arns = healthImagingArns(this);
    const key = new Key(this, 'LogKey', {
      description: 'Encrypts the HealthImaging OIDC authorizer audit log',
      enableKeyRotation: true,
      // Deleting the key would make the retained audit log unreadable; after a first create that
      // rolled back there is no log to read, and a retained key would only linger (RetainExceptOnCreate).
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal(`logs.${arns.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': arns.logGroup(`${namePrefix}/*`) },
        },
      }),
    );
    return key;
  }

  /**
   * The audit subject mode for the function. For `hash`, a 64-character key generated by Secrets
   * Manager reaches the function as a CloudFormation dynamic reference, resolved at deploy time
   * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html):
   * no secret in the template, no Secrets Manager call at cold start. It is kept when the stack is
   * deleted, as the audit logs are: without it a subject hash can no longer be checked against a user.
   */
  private auditSubjectEnvironment(mode: 'hash' | 'plain' | 'omit'): Record<string, string> {
    if (mode !== 'hash') return { [SETTING_NAMES.auditSubject]: mode };
    const secret = new Secret(this, 'AuditHashKey', {
      description: 'Key of the keyed hash that names token subjects in the authorizer audit log',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      // The audit log's key: the hash key belongs to the audit trail and is kept with it.
      encryptionKey: this.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    (this as { auditHashKey?: Secret }).auditHashKey = secret;
    const pseudonymKey =
      'The key pseudonymises subjects in the audit log; rotating it would break the correlation of one ' +
      "user's records across the rotation, and it authenticates nothing.";
    for (const id of [
      'AwsSolutions-SMG4',
      'HIPAA.Security-SecretsManagerRotationEnabled',
      'NIST.800.53.R5-SecretsManagerRotationEnabled',
    ]) {
      Validations.of(secret).acknowledge({ id, reason: pseudonymKey });
    }
    return {
      [SETTING_NAMES.auditSubject]: 'hash',
      [SETTING_NAMES.auditHashKey]: secret.secretValue.unsafeUnwrap(),
    };
  }

  /**
   * The CA bundle parsed with the function's own parser: an invalid one fails the synth naming the
   * setting; a certificate outside its validity is a warning (it anchors nothing).
   */
  private checkCaBundle(props: HealthImagingAuthorizerProps): CaBundle {
    const source = props.caBundleSource ?? 'caBundlePem';
    const parsed = parseCaBundle(props.caBundlePem ?? '');
    if (!parsed.ok) throw new AuthorizerSettingsError(`caBundle ${source}: ${parsed.problem}`);
    const certificates = parsed.bundle.certificates;
    for (const certificate of certificatesOutsideValidity(parsed.bundle, Date.now())) {
      Annotations.of(this).addWarningV2(
        'healthimaging-authorizer:caBundleCertificateOutsideValidity',
        `caBundle ${source}: ${describeCaCertificate(certificate, certificates.indexOf(certificate))} is valid ` +
          `from ${new Date(certificate.notBeforeMs).toISOString()} to ${new Date(certificate.notAfterMs).toISOString()}: ` +
          'outside that time it verifies no certificate',
      );
    }
    return parsed.bundle;
  }

  private acknowledgeFunctionFindings(noReservedConcurrency: boolean, inVpc: boolean): void {
    const fn = this.function;
    if (noReservedConcurrency) {
      const reason =
        'Reserved concurrency is a deployment setting (reservedConcurrency): an account with a low concurrency ' +
        'limit cannot reserve any, and the deploy would fail. The Throttles alarm watches the account limit.';
      Validations.of(fn).acknowledge({ id: 'HIPAA.Security-LambdaConcurrency', reason });
      Validations.of(fn).acknowledge({ id: 'NIST.800.53.R5-LambdaConcurrency', reason });
    }
    if (!inVpc) {
      // Only without VPC settings: with them the function is in a VPC and these rules pass.
      const outsideVpc =
        'The function needs only HTTPS egress to the identity providers (public OIDC/JWKS endpoints) and the SSM ' +
        'API; it holds no PHI and reaches no VPC resource. A VPC would add NAT and endpoints for no isolation gain ' +
        '(set vpcSubnetIds and vpcSecurityGroupIds for an IdP inside your network).';
      Validations.of(fn).acknowledge({ id: 'HIPAA.Security-LambdaInsideVPC', reason: outsideVpc });
      Validations.of(fn).acknowledge({ id: 'NIST.800.53.R5-LambdaInsideVPC', reason: outsideVpc });
    }
    const dlq =
      'HealthImaging invokes the authorizer synchronously and needs the answer within 1 s; there is no ' +
      'asynchronous invocation whose failures a dead-letter queue could hold.';
    Validations.of(fn).acknowledge({ id: 'HIPAA.Security-LambdaDLQ', reason: dlq });
    Validations.of(fn).acknowledge({ id: 'NIST.800.53.R5-LambdaDLQ', reason: dlq });
    Validations.of(fn).acknowledge({ id: 'Serverless-LambdaDLQ', reason: dlq });
    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaTracing',
      reason:
        'Each decision writes one audit line with its latency and EMF metrics; X-Ray would need xray:Put* on "*" ' +
        'in the execution role and adds per-request cost.',
    });
  }
}

/**
 * The first 8 hex digits of the stack's UUID (`arn:…:stack/<name>/<uuid>`): the same for every update
 * of one stack, new when a stack of the same name is created again after a deletion.
 */
function stackIncarnation(stack: Stack): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', stack.stackId))));
}

/** Matches a stack-created role ARN by path and name when the account is a deploy-time token. */
function allowedRolePattern(arn: string, rolePath: string): AllowedRole {
  if (!Token.isUnresolved(arn)) return arn;
  const name = arn.slice(arn.lastIndexOf('/') + 1);
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^arn:aws(-[a-z]+)*:iam::\\d{12}:role${escape(rolePath)}${escape(name)}$`);
}

/** Both or neither: a function in a VPC needs subnets and security groups. */
function checkVpcProps(props: HealthImagingAuthorizerProps): boolean {
  const subnets = props.vpcSubnets?.length ?? 0;
  const groups = props.securityGroups?.length ?? 0;
  if ((subnets === 0) !== (groups === 0)) {
    throw new AuthorizerSettingsError(
      'vpcSubnets and securityGroups go together: a function in a VPC needs both (or give neither)',
    );
  }
  return subnets > 0;
}

/**
 * The network-interface actions of the AWS managed policy AWSLambdaVPCAccessExecutionRole
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html),
 * as the Lambda developer guide lists them for a function in a VPC
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html), in this customer-managed
 * policy: no AWS managed policy on the role (cdk-nag AwsSolutions-IAM4), and no logs:CreateLogGroup.
 */
function vpcAccessStatement(): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
  });
}

/** Lambda refuses a function whose environment variables total over 4 KB. */
const ENVIRONMENT_LIMIT_BYTES = 4096;
/** What a deploy-time value (the audit hash key, a role ARN's account) can resolve to, at most. */
const TOKEN_ESTIMATE = 'x'.repeat(128);

/**
 * The environment, refused at synth when it could exceed Lambda's 4 KB
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html): the role allowlist grows
 * with extraRoleArns, and a deploy would otherwise fail only in CloudFormation.
 */
function checkedEnvironment(environment: Record<string, string>): Record<string, string> {
  const bytes = Object.entries(environment).reduce(
    (total, [name, value]) =>
      total +
      Buffer.byteLength(name) +
      Buffer.byteLength(value.replace(/\$\{Token\[[^\]]*\]\}/g, TOKEN_ESTIMATE)),
    0,
  );
  if (bytes > ENVIRONMENT_LIMIT_BYTES) {
    throw new AuthorizerSettingsError(
      `the function's environment would take up to ${bytes} bytes, over Lambda's ${ENVIRONMENT_LIMIT_BYTES}: ` +
        `AUTHORIZER_ALLOWED_ROLE_ARNS holds ${environment['AUTHORIZER_ALLOWED_ROLE_ARNS']?.split(',').length ?? 0} ` +
        'role ARNs; list fewer in extraRoleArns',
    );
  }
  return environment;
}

/**
 * The timing settings as the function's environment, checked with the function's own ranges
 * (src/core/lambda/runtime-settings.ts): a value that would let an answer outrun HealthImaging's second
 * fails the synth instead of being refused at every cold start.
 */
function timingEnvironment(props: HealthImagingAuthorizerProps): Record<string, string> {
  const environment: Record<string, string> = {};
  if (props.budgetMs !== undefined) environment[SETTING_NAMES.budgetMs] = String(props.budgetMs);
  if (props.initBudgetMs !== undefined) environment[SETTING_NAMES.initBudgetMs] = String(props.initBudgetMs);
  if (props.provisionedInitBudgetMs !== undefined) {
    environment[SETTING_NAMES.provisionedInitBudgetMs] = String(props.provisionedInitBudgetMs);
  }
  const problems = runtimeSettingProblems(environment);
  if (problems.length > 0) {
    throw new AuthorizerSettingsError(
      `invalid function settings:\n${indented(problems.map((problem) => problem.message))}`,
    );
  }
  return environment;
}

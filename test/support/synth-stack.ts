/**
 * Synthesizes the deployment stack the way infra/app.ts does (same stack, same cdk-nag packs) into a
 * temporary cloud assembly, and hands tests the template, the staged assets and every cdk-nag finding
 * that was not acknowledged. Each test file synthesizes once in beforeAll: a synth with four nag packs
 * takes seconds, and CI has two cores.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addNagChecks } from '../../infra/add-nag-checks.ts';
import { AuthorizerStack, type AuthorizerStackProps } from '../../infra/authorizer-stack.ts';

/** A synth with four nag packs takes seconds alone and longer on a loaded two-core CI machine. */
export const SYNTH_TIMEOUT_MS = 90_000;

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
/** The test stack's name, which prefixes its role names. */
export const STACK_NAME = 'TestStack';
export const READ_ONLY_ROLE_NAME = `${STACK_NAME}-AhiReadOnly`;
export const READ_WRITE_ROLE_NAME = `${STACK_NAME}-AhiReadWrite`;
export const READ_ONLY_ROLE = `arn:aws:iam::${ACCOUNT}:role/healthimaging/${READ_ONLY_ROLE_NAME}`;
export const READ_WRITE_ROLE = `arn:aws:iam::${ACCOUNT}:role/healthimaging/${READ_WRITE_ROLE_NAME}`;

/** A valid config whose rules name the two stack-created roles. */
export function deployConfig(overrides: { roleArns?: string[] } = {}): Record<string, unknown> {
  const [first = READ_WRITE_ROLE, second = READ_ONLY_ROLE] = overrides.roleArns ?? [];
  return {
    issuers: [{ issuer: 'https://idp.example.com/realms/ahi', audience: 'api://ahi-dicomweb' }],
    rules: [
      { name: 'radiologists', claims: { scp: 'Dicom.ReadWrite' }, roleArn: first },
      { name: 'viewers', claims: { scp: 'Dicom.Read' }, operations: ['read'], roleArn: second },
    ],
  };
}

export interface NagFinding {
  rule: string;
  paths: string[];
}

export interface SynthResult {
  app: App;
  stack: AuthorizerStack;
  template: Template;
  /** The raw template, for scans over every resource. */
  json: {
    Resources: Record<
      string,
      { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>
    >;
  };
  /** cdk-nag findings (errors and warnings) that no acknowledgement covers, from all four packs. */
  nagFindings: NagFinding[];
  /** Relative file paths inside the staged code asset of a Lambda function. */
  assetFiles(logicalId: string): string[];
  /** The text of one file of that asset. */
  assetFile(logicalId: string, path: string): string;
  cleanup(): void;
}

export function synthStack(
  authorizer: Partial<AuthorizerStackProps['authorizer']> = {},
  extra: Omit<AuthorizerStackProps, 'authorizer' | 'env'> = {},
): SynthResult {
  const outdir = mkdtempSync(join(tmpdir(), 'ahi-infra-'));
  const app = new App({ outdir });
  const stack = new AuthorizerStack(app, STACK_NAME, {
    env: { account: ACCOUNT, region: REGION },
    ...extra,
    // Account-wide unless a test narrows it (the deploy settings make this an explicit choice).
    authorizer: {
      configJson: JSON.stringify(deployConfig()),
      ...(authorizer.createDatastore === undefined && { datastores: '*' as const }),
      ...authorizer,
    },
  });
  // As in infra/app.ts: an unacknowledged nag error would already make this synth throw.
  const packs = addNagChecks(app);
  const template = Template.fromStack(stack);
  const assembly = app.synth();
  const nagFindings = packs.flatMap((pack) =>
    pack.validateScope(app).violations.map((violation) => ({
      rule: violation.ruleName,
      paths: violation.violatingResources.map((resource) => resource.constructPath ?? '?'),
    })),
  );
  const json = template.toJSON() as SynthResult['json'];
  return {
    app,
    stack,
    template,
    json,
    nagFindings,
    assetFiles(logicalId) {
      const root = assetRoot(logicalId);
      return readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath, entry.name)))
        .sort();
    },
    assetFile: (logicalId, path) => readFileSync(join(assetRoot(logicalId), path), 'utf8'),
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };

  function assetRoot(logicalId: string): string {
    // The function's S3 key is the asset hash; the staged copy sits in the assembly as asset.<hash>.
    const code = json.Resources[logicalId]?.Properties?.['Code'] as { S3Key?: string } | undefined;
    const hash = code?.S3Key?.replace(/\.zip$/, '');
    if (hash === undefined) throw new Error(`${logicalId} has no asset code`);
    return join(assembly.directory, `asset.${hash}`);
  }
}

/** The logical ids of every resource of a type. */
export function logicalIdsOf(result: SynthResult, type: string): string[] {
  return Object.entries(result.json.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
}

/**
 * The statements of the managed policies attached to a role, from either side: the role's
 * ManagedPolicyArns, or a policy's Roles (attached from the policy so the role need not wait for it).
 */
export function roleManagedPolicyStatements(
  result: SynthResult,
  roleLogicalId: string,
): Record<string, unknown>[] {
  const role = result.json.Resources[roleLogicalId]!;
  const fromRole = asArray(role.Properties?.['ManagedPolicyArns'] as { Ref?: string }[]).map(
    (arn) => result.json.Resources[arn.Ref ?? '']!,
  );
  const fromPolicy = Object.values(result.json.Resources).filter(
    (resource) =>
      resource.Type === 'AWS::IAM::ManagedPolicy' &&
      asArray(resource.Properties?.['Roles'] as unknown[]).some(
        (ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleLogicalId }),
      ),
  );
  return [...fromRole, ...fromPolicy].flatMap(
    (policy) => (policy.Properties?.['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement,
  );
}

/** Every IAM statement in managed policies, inline policies and role inline `Policies`. */
export function allPolicyStatements(result: SynthResult): Record<string, unknown>[] {
  const statements: Record<string, unknown>[] = [];
  for (const resource of Object.values(result.json.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::ManagedPolicy' || resource.Type === 'AWS::IAM::Policy') {
      statements.push(
        ...((props['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement ?? []),
      );
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of (props['Policies'] as {
        PolicyDocument: { Statement: Record<string, unknown>[] };
      }[]) ?? []) {
        statements.push(...policy.PolicyDocument.Statement);
      }
    }
  }
  return statements;
}

/** The stack outputs whose id starts with `DicomWebEndpoint`, by id. */
export function dicomWebOutputs(result: SynthResult): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(result.template.findOutputs('*')).filter(([id]) => id.startsWith('DicomWebEndpoint')),
  );
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

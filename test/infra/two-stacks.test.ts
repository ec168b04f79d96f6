/**
 * Staging and production in one account: one CDK app with two instances of the stack synthesizes,
 * and no physical name that must be unique in an account and region (roles, log groups, parameters,
 * alarms, rules, log resource policies) is shared between them. IAM role names are unique per account
 * whatever their path: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addNagChecks } from '../../infra/add-nag-checks.ts';
import { AuthorizerStack } from '../../infra/authorizer-stack.ts';
import { dicomWebRoleNames } from '../../infra/dicomweb-roles.ts';
import { ACCOUNT, REGION, SYNTH_TIMEOUT_MS } from './synth-stack.ts';

/** Properties that name the resource itself in an account-wide (or region-wide) namespace. */
const PHYSICAL_NAME_KEYS = [
  'RoleName',
  'ManagedPolicyName',
  'LogGroupName',
  'Name',
  'PolicyName',
  'AlarmName',
  'RuleName',
  'FunctionName',
  'SecretName',
  'AliasName',
  'DatastoreName',
];
/** Names scoped to their parent, not to the account. */
const PARENT_SCOPED = new Set(['AWS::Lambda::Alias.Name', 'AWS::IAM::Policy.PolicyName']);

const outdir = mkdtempSync(join(tmpdir(), 'ahi-two-stacks-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function configFor(stackName: string): string {
  const names = dicomWebRoleNames(stackName);
  const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/healthimaging/${name}`;
  return JSON.stringify({
    issuers: [{ issuer: 'https://idp.example.com/realms/ahi', audience: 'api://ahi-dicomweb' }],
    rules: [
      { name: 'radiologists', claims: { scp: 'Dicom.ReadWrite' }, roleArn: role(names.readWrite) },
      { name: 'viewers', claims: { scp: 'Dicom.Read' }, operations: ['read'], roleArn: role(names.readOnly) },
    ],
  });
}

/** Each physical name of a template, as the text CloudFormation would resolve it to in that stack. */
function physicalNames(template: Record<string, unknown>, stackName: string): Map<string, string> {
  const names = new Map<string, string>();
  const resources = (template as { Resources: Record<string, { Type: string; Properties?: object }> })
    .Resources;
  for (const [id, resource] of Object.entries(resources)) {
    for (const [key, value] of Object.entries(resource.Properties ?? {})) {
      if (!PHYSICAL_NAME_KEYS.includes(key) || PARENT_SCOPED.has(`${resource.Type}.${key}`)) continue;
      // A { Ref } to another resource of the stack names that resource, not this one.
      if (
        typeof value === 'object' &&
        value !== null &&
        'Ref' in value &&
        !String(value.Ref).startsWith('AWS::')
      ) {
        continue;
      }
      // Pseudo parameters resolve per stack: substitute them before comparing.
      const text = JSON.stringify(value)
        .replaceAll('{"Ref":"AWS::StackName"}', stackName)
        .replaceAll('{"Ref":"AWS::StackId"}', `stack/${stackName}/uuid`);
      names.set(`${stackName}/${id}.${key}`, text);
    }
  }
  return names;
}

let staging: Map<string, string>;
let production: Map<string, string>;

beforeAll(() => {
  const app = new App({ outdir });
  const stacks = ['AhiStaging', 'AhiProduction'].map(
    (stackName) =>
      new AuthorizerStack(app, stackName, {
        env: { account: ACCOUNT, region: REGION },
        authorizer: { configJson: configFor(stackName), datastores: '*', configDelivery: 'parameter' },
      }),
  );
  addNagChecks(app);
  app.synth();
  [staging, production] = stacks.map((stack) =>
    physicalNames(Template.fromStack(stack).toJSON(), stack.stackName),
  ) as [Map<string, string>, Map<string, string>];
}, SYNTH_TIMEOUT_MS);

it('gives every stack its own role names, log groups, parameter and log resource policy', () => {
  // Assert: the kinds that collided before names were derived from the stack all have a name here.
  const kinds = [...staging.keys()].map((key) => key.slice(key.lastIndexOf('.') + 1));
  expect(new Set(kinds)).toEqual(new Set(['RoleName', 'LogGroupName', 'Name', 'PolicyName']));
  expect(production.size).toBe(staging.size);
});

it('shares no physical name between the two stacks', () => {
  // Act
  const stagingNames = new Set(staging.values());
  const shared = [...production.entries()].filter(([, name]) => stagingNames.has(name));

  // Assert
  expect(shared).toEqual([]);
});

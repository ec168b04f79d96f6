/**
 * docs/deployment.md cannot rot: each settings file it prints (`<!-- deploy-settings: path -->`) parses
 * with the app's parser, its key table and quoted error match the parser, and its
 * staging-plus-production recipe synthesizes as one CDK app sharing no physical name that must be
 * unique in an account and region.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNagChecks } from '../../infra/add-nag-checks.ts';
import { AuthorizerStack } from '../../infra/authorizer-stack.ts';
import { dicomWebRoleNames } from '../../infra/dicomweb-roles.ts';
import {
  DEPLOY_SETTING_KEYS,
  type DeploySettings,
  parseDeploySettings,
} from '../../infra/deploy-settings.ts';
import { stackPropsFromSettings } from '../../infra/stack-from-settings.ts';
import { SYNTH_TIMEOUT_MS } from '../support/synth-stack.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8');
const EXAMPLE_CONFIG = readFileSync(join(ROOT, 'deploy', 'example.config.json'), 'utf8');

/** The settings files the page prints, by the path it gives them. */
const SETTINGS_BLOCKS = new Map(
  [...DOC.matchAll(/^<!-- deploy-settings: (\S+) -->\n\n?```json\n([\s\S]*?)^```$/gm)].map((match) => [
    match[1]!,
    match[2]!,
  ]),
);

/** The example config with its role names moved to the stack's prefix, as the page tells readers to. */
function configFor(settings: { roleNamePrefix: string }): string {
  return EXAMPLE_CONFIG.replaceAll('HealthImagingAuthorizer-Ahi', `${settings.roleNamePrefix}-Ahi`);
}

/** Parses a printed settings file as the app would, reading any config it names as the adapted example. */
function parsePrinted(path: string, context: Record<string, unknown> = {}): DeploySettings {
  const settingsPath = join(ROOT, path);
  return parseDeploySettings({
    context: { settings: path, ...context },
    readFile: (file) => {
      if (file !== settingsPath) throw new Error(`ENOENT: ${file}`);
      return SETTINGS_BLOCKS.get(path)!;
    },
    cwd: ROOT,
    defaultEnv: {},
  });
}

describe('role ARNs in the docs and examples', () => {
  it('are the roles a documented stack creates, so a copied config synthesizes', () => {
    // Arrange: every file a reader copies a config from.
    const files = [
      'README.md',
      ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.md'))
        .map((file) => join('docs', file)),
      ...['examples', 'deploy'].flatMap((dir) =>
        readdirSync(join(ROOT, dir))
          .filter((file) => file.endsWith('.json'))
          .map((file) => join(dir, file)),
      ),
    ];
    const created = ['HealthImagingAuthorizer', 'AhiStaging', 'AhiProduction'].flatMap((prefix) => {
      const names = dicomWebRoleNames(prefix);
      return [names.readOnly, names.readWrite].map(
        (name) => `arn:aws:iam::111122223333:role/healthimaging/${name}`,
      );
    });

    // Act
    const named = files.flatMap((file) =>
      [...readFileSync(join(ROOT, file), 'utf8').matchAll(/arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+/g)].map(
        (match) => `${file}: ${match[0]}`,
      ),
    );

    // Assert
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((entry) => !created.includes(entry.slice(entry.indexOf(': ') + 2)))).toEqual([]);
  });
});

describe('the settings files in docs/deployment.md', () => {
  it('are there: the first deploy, staging, production and an IdP inside the network', () => {
    expect([...SETTINGS_BLOCKS.keys()]).toEqual([
      'deploy/radiology.settings.json',
      'deploy/staging.settings.json',
      'deploy/production.settings.json',
      'deploy/hospital.settings.json',
    ]);
  });

  it.each([...SETTINGS_BLOCKS.keys()])('%s parses with the app’s parser', (path) => {
    expect(() => parsePrinted(path)).not.toThrow();
  });

  it('list in their table exactly the keys the parser accepts', () => {
    // Arrange: the first column of the table whose header starts with "| key".
    const table = DOC.slice(DOC.indexOf('| key '), DOC.indexOf('\n\n', DOC.indexOf('| key ')));
    const rows = table.split('\n').slice(2);

    // Act
    const documented = rows.flatMap((row) =>
      [...row.split('|')[1]!.matchAll(/`(\w+)`/g)].map((match) => match[1]),
    );

    // Assert
    expect([...documented].sort()).toEqual([...DEPLOY_SETTING_KEYS].sort());
  });

  it('quote the error a missing datastores setting gives', () => {
    // Arrange
    const quoted = /```text\nerror: (deploy\/radiology\.settings\.json is invalid:\n.*)\n```/.exec(DOC)?.[1];
    const withoutDatastores = SETTINGS_BLOCKS.get('deploy/radiology.settings.json')!.replace(
      /^\s*"datastores".*\n/m,
      '',
    );

    // Act
    const parse = () =>
      parseDeploySettings({
        context: { settings: 'deploy/radiology.settings.json' },
        readFile: () => withoutDatastores,
        cwd: ROOT,
        defaultEnv: {},
      });

    // Assert
    expect(quoted).toBeDefined();
    expect(parse).toThrow(new RegExp(`^${quoted!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });
});

/**
 * Properties that name the resource itself in an account-wide (or region-wide) namespace. IAM role
 * names are unique per account whatever their path:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
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

/** Each physical name of a template, as the text CloudFormation would resolve it to in that stack. */
function physicalNames(template: Record<string, unknown>, stackName: string): Map<string, string> {
  const names = new Map<string, string>();
  const resources = (
    template as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }
  ).Resources;
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

describe('staging and production in one account, as the page deploys them', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'ahi-two-stacks-'));
  let staging: Map<string, string>;
  let production: Map<string, string>;

  beforeAll(() => {
    const app = new App({ outdir });
    const stacks = ['deploy/staging.settings.json', 'deploy/production.settings.json'].map((path) => {
      const settings = parsePrinted(path);
      return new AuthorizerStack(
        app,
        settings.stackName,
        stackPropsFromSettings(settings, configFor(settings), path),
      );
    });
    addNagChecks(app);
    app.synth();
    [staging, production] = stacks.map((stack) =>
      physicalNames(Template.fromStack(stack).toJSON(), stack.stackName),
    ) as [Map<string, string>, Map<string, string>];
  }, SYNTH_TIMEOUT_MS);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('names roles, log groups and the log resource policy in each stack', () => {
    // Assert: the kinds that collided before names were derived from the stack all have a name here.
    const kinds = [...staging.keys()].map((key) => key.slice(key.lastIndexOf('.') + 1));
    expect(new Set(kinds)).toEqual(new Set(['RoleName', 'LogGroupName', 'PolicyName']));
    expect(production.size).toBe(staging.size);
  });

  it('shares no physical name between the two stacks', () => {
    // Act
    const stagingNames = new Set(staging.values());
    const shared = [...production.entries()].filter(([, name]) => stagingNames.has(name));

    // Assert
    expect(shared).toEqual([]);
  });

  it(
    'shares no parameter name either when both read their config from SSM',
    () => {
      // Arrange
      const app = new App({ outdir: join(outdir, 'parameter') });
      const stacks = ['deploy/staging.settings.json', 'deploy/production.settings.json'].map((path) => {
        const settings = parsePrinted(path, { configDelivery: 'parameter' });
        return new AuthorizerStack(
          app,
          settings.stackName,
          stackPropsFromSettings(settings, configFor(settings), path),
        );
      });

      // Act: both are declared before either is synthesized (a synthesized tree cannot grow).
      const names = stacks.map((stack) =>
        Object.values(Template.fromStack(stack).findResources('AWS::SSM::Parameter')).map(
          (parameter) => (parameter['Properties'] as { Name: string }).Name,
        ),
      );

      // Assert
      expect(names.map((list) => list.length)).toEqual([1, 1]);
      expect(names[0]).not.toEqual(names[1]);
    },
    SYNTH_TIMEOUT_MS,
  );
});

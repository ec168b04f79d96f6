/**
 * The deployment for IdPs inside the hospital network: the function in given subnets and security
 * groups (imported by id), the network-interface permissions in its execution policy, cdk-nag clean
 * without the "outside a VPC" acknowledgements; and a private CA bundle validated at synth, shipped
 * beside the config and named by AUTHORIZER_CA_BUNDLE_FILE.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { SecurityGroup, Subnet } from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizerStack } from '../../infra/authorizer-stack.ts';
import { parseDeploySettings } from '../../infra/deploy-settings.ts';
import { AuthorizerSettingsError, HealthImagingAuthorizer } from '../../infra/healthimaging-authorizer.ts';
import { stackPropsFromSettings } from '../../infra/stack-from-settings.ts';
import {
  daysFromNow,
  makeCertificate,
  makePrivateCa,
  type TestCertificate,
} from '../support/certificates.ts';
import {
  ACCOUNT,
  deployConfig,
  logicalIdsOf,
  REGION,
  roleManagedPolicyStatements,
  STACK_NAME,
  type SynthResult,
  SYNTH_TIMEOUT_MS,
  synthStack,
} from '../support/synth-stack.ts';

const REPO = resolve(import.meta.dirname, '../..');
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const SECURITY_GROUPS = ['sg-0123456789abcdef0'];
const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

const work = mkdtempSync(join(tmpdir(), 'ahi-onprem-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let ca: TestCertificate;
beforeAll(() => {
  ca = makePrivateCa('Hospital Root CA');
});

function functionId(result: SynthResult): string {
  const [id] = logicalIdsOf(result, 'AWS::Lambda::Function').filter((candidate) =>
    candidate.startsWith('AuthorizerFunction'),
  );
  return id!;
}

/** The rule ids acknowledged on a construct (cdk-nag v3 acknowledgements are node metadata). */
function acknowledged(construct: IConstruct): string[] {
  return construct.node.metadata
    .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
    .flatMap((entry) => Object.keys(entry.data as Record<string, string>));
}

describe('with vpcSubnetIds, vpcSecurityGroupIds and caBundle (config from SSM)', () => {
  let result: SynthResult;

  beforeAll(() => {
    result = synthStack(
      { configDelivery: 'parameter', caBundlePem: ca.cert, caBundleSource: 'certs/hospital-ca.pem' },
      { vpcSubnetIds: SUBNETS, vpcSecurityGroupIds: SECURITY_GROUPS },
    );
  }, SYNTH_TIMEOUT_MS);
  afterAll(() => result.cleanup());

  it('runs the function in the given subnets with the given security groups', () => {
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: SUBNETS, SecurityGroupIds: SECURITY_GROUPS },
    });
    // Imported, never created or modified.
    expect(logicalIdsOf(result, 'AWS::EC2::SecurityGroup')).toEqual([]);
    expect(logicalIdsOf(result, 'AWS::EC2::SecurityGroupEgress')).toEqual([]);
    // Nothing about the imported subnets' route tables (never read) is left to warn about.
    expect(Annotations.fromStack(result.stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('grants the network-interface actions in the customer-managed execution policy, before the function', () => {
    // Arrange
    const fn = result.json.Resources[functionId(result)]!;
    const roleId = (fn.Properties?.['Role'] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;

    // Act
    const statements = roleManagedPolicyStatements(result, roleId);

    // Assert
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ENI_ACTIONS, Resource: '*' });
    expect(JSON.stringify(result.json.Resources[roleId])).not.toContain('AWSLambdaVPCAccessExecutionRole');
    expect(fn['DependsOn']).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AuthorizerExecutionPolicy/)]),
    );
  });

  it('ships the CA bundle in the code and names it in AUTHORIZER_CA_BUNDLE_FILE', () => {
    // Act
    const id = functionId(result);

    // Assert
    expect(result.assetFiles(id)).toContain('ca-bundle.pem');
    expect(result.assetFiles(id)).not.toContain('authorizer-config.json');
    expect(result.assetFile(id, 'ca-bundle.pem')).toBe(ca.cert);
    result.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ AUTHORIZER_CA_BUNDLE_FILE: '/var/task/ca-bundle.pem' }) },
    });
  });

  it('finds nothing unacknowledged, and no LambdaInsideVPC acknowledgement is left', () => {
    expect(result.nagFindings).toEqual([]);
    expect(
      acknowledged(result.stack.authorizer.function).filter((id) => id.includes('LambdaInsideVPC')),
    ).toEqual([]);
  });
});

describe('without VPC settings', () => {
  it('has no VpcConfig, no network-interface permission, and acknowledges LambdaInsideVPC', () => {
    // Arrange
    const app = new App({ outdir: join(work, 'novpc') });
    const stack = new AuthorizerStack(app, STACK_NAME, {
      env: { account: ACCOUNT, region: REGION },
      authorizer: { configJson: JSON.stringify(deployConfig()), datastores: '*' },
    });

    // Act
    const json = JSON.stringify(app.synth().getStackByName(STACK_NAME).template);

    // Assert
    expect(json).not.toContain('VpcConfig');
    expect(json).not.toContain('ec2:CreateNetworkInterface');
    expect(
      acknowledged(stack.authorizer.function).filter((id) => id.includes('LambdaInsideVPC')),
    ).toHaveLength(2);
    expect(json).not.toContain('AUTHORIZER_CA_BUNDLE_FILE');
  });
});

describe('the construct', () => {
  const build = (props: Partial<ConstructorParameters<typeof HealthImagingAuthorizer>[2]>) => {
    const app = new App({ outdir: join(work, `construct-${Math.random().toString(36).slice(2)}`) });
    const stack = new Stack(app, STACK_NAME, { env: { account: ACCOUNT, region: REGION } });
    const authorizer = new HealthImagingAuthorizer(stack, 'Authorizer', {
      configJson: JSON.stringify(deployConfig()),
      datastores: '*',
      ...props,
    });
    return { app, stack, authorizer };
  };

  it.each([
    ['a file without a certificate', () => 'hello', 'caBundle certs/ca.pem: holds no PEM certificate'],
    [
      'a certificate that does not parse',
      () => '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
      'caBundle certs/ca.pem: certificate 1 does not parse as an X.509 certificate',
    ],
    [
      'a private key beside the CA',
      () => `${ca.cert}${ca.key}`,
      'caBundle certs/ca.pem: PEM block 2 is a private key',
    ],
  ])('refuses %s, naming the setting', (_what, pem, message) => {
    const attempt = () => build({ caBundlePem: pem(), caBundleSource: 'certs/ca.pem' });
    expect(attempt).toThrow(AuthorizerSettingsError);
    expect(attempt).toThrow(message);
  });

  it('fails with the error docs/deployment.md quotes for a bundle whose second block is not a certificate', () => {
    // Arrange
    const doc = readFileSync(join(REPO, 'docs', 'deployment.md'), 'utf8');
    const quoted = /```text\nerror: (caBundle deploy\/certs\/hospital-ca\.pem: .*)\n```/.exec(doc)?.[1];
    const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n';

    // Act
    const attempt = () =>
      build({ caBundlePem: `${ca.cert}${broken}`, caBundleSource: 'deploy/certs/hospital-ca.pem' });

    // Assert
    expect(quoted).toBeDefined();
    expect(attempt).toThrow(quoted!);
  });

  it('warns about a CA in the bundle outside its validity', () => {
    // Arrange
    const expired = makeCertificate({
      commonName: 'Retired Root CA',
      ca: true,
      notBefore: daysFromNow(-900),
      notAfter: daysFromNow(-5),
    });

    // Act
    const { stack } = build({ caBundlePem: `${ca.cert}${expired.cert}`, caBundleSource: 'certs/ca.pem' });

    // Assert
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Authorizer',
      Match.stringLikeRegexp('caBundle certs/ca.pem: CN=Retired Root CA is valid from .* outside that time'),
    );
  });

  it('refuses subnets without security groups', () => {
    const stack = new Stack(new App(), 'S', { env: { account: ACCOUNT, region: REGION } });
    const subnet = Subnet.fromSubnetId(stack, 'Subnet', SUBNETS[0]!);
    expect(
      () =>
        new HealthImagingAuthorizer(stack, 'Authorizer', {
          configJson: JSON.stringify(deployConfig()),
          datastores: '*',
          vpcSubnets: [subnet],
        }),
    ).toThrow('vpcSubnets and securityGroups go together');
    const group = SecurityGroup.fromSecurityGroupId(stack, 'Group', SECURITY_GROUPS[0]!);
    expect(
      () =>
        new HealthImagingAuthorizer(stack, 'Authorizer2', {
          configJson: JSON.stringify(deployConfig()),
          datastores: '*',
          securityGroups: [group],
        }),
    ).toThrow('vpcSubnets and securityGroups go together');
  });

  it(
    'ships the CA bundle beside the bundled config, certificates only (comments dropped)',
    () => {
      // Arrange: a fake dist/, as test/infra/authorizer-asset.test.ts does.
      const dist = join(work, 'dist');
      for (const file of ['handler.mjs', 'chunks/chunk-AAAA.mjs']) {
        mkdirSync(join(dist, file, '..'), { recursive: true });
        writeFileSync(join(dist, file), `// ${file}\n`);
      }
      const { app } = build({
        distDirectory: dist,
        caBundlePem: `# Hospital PKI, exported 2026\n${ca.cert}`,
      });

      // Act
      const assembly = app.synth();
      const [assetDir] = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
      const root = join(assembly.directory, assetDir!);
      const staged = readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath, entry.name)))
        .sort();

      // Assert
      expect(staged).toEqual([
        'authorizer-config.json',
        'ca-bundle.pem',
        'chunks/chunk-AAAA.mjs',
        'handler.mjs',
      ]);
      expect(readdirSync(root).length).toBe(4);
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('the deployment settings', () => {
  const parse = (settings: Record<string, unknown>, context: Record<string, unknown> = {}) =>
    parseDeploySettings({
      context: { settings: '/deploy/hospital.settings.json', ...context },
      readFile: () => JSON.stringify({ config: 'hospital.config.json', datastores: '*', ...settings }),
      cwd: '/work',
      defaultEnv: {},
    });

  it('read vpcSubnetIds, vpcSecurityGroupIds and caBundle (relative to the settings file)', () => {
    // Act
    const settings = parse({
      vpcSubnetIds: SUBNETS,
      vpcSecurityGroupIds: SECURITY_GROUPS,
      caBundle: 'certs/hospital-ca.pem',
    });

    // Assert
    expect(settings).toMatchObject({
      vpcSubnetIds: SUBNETS,
      vpcSecurityGroupIds: SECURITY_GROUPS,
      caBundlePath: '/deploy/certs/hospital-ca.pem',
    });
    expect(settings).not.toHaveProperty('caBundle');
  });

  it('take -c overrides: comma-separated ids, and a CA bundle relative to the working directory', () => {
    const settings = parse(
      {},
      {
        vpcSubnetIds: SUBNETS.join(','),
        vpcSecurityGroupIds: SECURITY_GROUPS[0],
        caBundle: 'ca.pem',
      },
    );
    expect(settings).toMatchObject({
      vpcSubnetIds: SUBNETS,
      vpcSecurityGroupIds: SECURITY_GROUPS,
      caBundlePath: '/work/ca.pem',
    });
  });

  it.each([
    [{ vpcSubnetIds: SUBNETS }, '$.vpcSecurityGroupIds: required with vpcSubnetIds'],
    [{ vpcSecurityGroupIds: SECURITY_GROUPS }, '$.vpcSubnetIds: required with vpcSecurityGroupIds'],
    [
      { vpcSubnetIds: ['subnet-xyz'], vpcSecurityGroupIds: SECURITY_GROUPS },
      '$.vpcSubnetIds[0]: a subnet id such as subnet-0123456789abcdef0',
    ],
    [
      { vpcSubnetIds: SUBNETS, vpcSecurityGroupIds: ['sg-12'] },
      '$.vpcSecurityGroupIds[0]: a security group id such as sg-0123456789abcdef0',
    ],
    [
      { vpcSubnetIds: [], vpcSecurityGroupIds: SECURITY_GROUPS },
      '$.vpcSubnetIds: list at least one subnet id',
    ],
    [
      { vpcSubnetIds: [SUBNETS[0], SUBNETS[0]], vpcSecurityGroupIds: SECURITY_GROUPS },
      '$.vpcSubnetIds: lists a subnet id twice',
    ],
    [
      {
        vpcSubnetIds: SUBNETS,
        vpcSecurityGroupIds: Array.from({ length: 6 }, (_, i) => `sg-0000000${i}`),
      },
      '$.vpcSecurityGroupIds: Lambda takes at most 5',
    ],
    [{ caBundle: '' }, '$.caBundle'],
  ])('refuse %j', (settings, message) => {
    expect(() => parse(settings)).toThrow(message);
  });

  it('map to the stack props', () => {
    // Act
    const props = stackPropsFromSettings(
      parse({ vpcSubnetIds: SUBNETS, vpcSecurityGroupIds: SECURITY_GROUPS }),
      JSON.stringify(deployConfig()),
      'hospital.config.json',
      { pem: ca.cert, source: 'certs/hospital-ca.pem' },
    );

    // Assert
    expect(props).toMatchObject({
      vpcSubnetIds: SUBNETS,
      vpcSecurityGroupIds: SECURITY_GROUPS,
      authorizer: { caBundlePem: ca.cert, caBundleSource: 'certs/hospital-ca.pem' },
    });
  });
});

describe('cdk synth (infra/app.ts) with caBundle', () => {
  const synth = (caBundle: string, content?: string) => {
    const dir = mkdtempSync(join(work, 'app-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(deployConfig()));
    if (content !== undefined) writeFileSync(join(dir, caBundle), content);
    writeFileSync(
      join(dir, 'hospital.settings.json'),
      JSON.stringify({ config: 'config.json', datastores: '*', caBundle }),
    );
    return spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: REPO,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ settings: join(dir, 'hospital.settings.json'), account: ACCOUNT }),
        CDK_OUTDIR: join(dir, 'cdk.out'),
      },
    });
  };

  it(
    'fails naming the setting when the file cannot be read',
    () => {
      const run = synth('certs/missing.pem');
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/error: caBundle: cannot read .*certs\/missing\.pem \(ENOENT\)/);
      expect(run.stderr).not.toContain('    at ');
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails naming the setting when the file is not a PEM certificate bundle',
    () => {
      const run = synth('hospital-ca.pem', 'not a certificate\n');
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/error: caBundle .*hospital-ca\.pem: holds no PEM certificate/);
      expect(run.stderr).not.toContain('    at ');
    },
    SYNTH_TIMEOUT_MS,
  );
});

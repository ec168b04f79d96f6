/**
 * The IdP guides cannot rot: every ```json block under docs/ validates against the schema, each guide's
 * snippets are exercised with that IdP's token shapes through `ahi-authorizer explain`, each
 * `<!-- explain: id -->` block equals a real run, and the sandbox profiles
 * (src/tools/sandbox/idp-profiles.ts) match their guides. UPDATE_DOCS_EXPLAIN=1 rewrites the generated
 * blocks.
 */

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/tools/cli/run-cli.ts';
import { routeDicomweb } from '../../src/tools/sandbox/route-dicomweb.ts';
import {
  IDP_PROFILES,
  type IdpProfile,
  loopbackConfig,
  loopbackUrl,
} from '../../src/tools/sandbox/idp-profiles.ts';
import { adfsHeader, entraHeader } from '../../src/tools/sandbox/idp-token-shapes.ts';
import { parseConfig } from '../../src/core/config/schema.ts';
import { fakeIo } from '../support/fake-io.ts';
import * as idp from '../support/fixtures/idp/tokens.ts';
import { jwksOf, makeKey, signToken, type TestKey } from '../support/keys.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = join(ROOT, 'docs');
const NOW_ISO = '2026-11-23T12:00:00Z';
const NOW = Date.parse(NOW_ISO);
const UPDATE = process.env['UPDATE_DOCS_EXPLAIN'] === '1';

async function markdownFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? markdownFiles(join(dir, entry.name))
        : Promise.resolve(entry.name.endsWith('.md') ? [join(dir, entry.name)] : []),
    ),
  );
  return nested.flat().sort();
}

/** Authorizer configurations: every ```json block but deployment settings (marked, tested in test/infra). */
const jsonBlocks = (markdown: string): string[] =>
  [...markdown.matchAll(/^(<!-- deploy-settings: [^>]*-->\n\n?)?```json\n([\s\S]*?)^```$/gm)]
    .filter((match) => match[1] === undefined)
    .map((match) => match[2] ?? '');

type KeyName = 'entra' | 'keycloak' | 'okta' | 'auth0' | 'cognito' | 'adfs';

/** Fixed kids (the seeds' where there is one, else the profiles') keep the explain output stable across runs. */
const KIDS: Record<KeyName, string> = {
  entra: 'JDNa_4i4r7FgigL3sHIlI3xV-IU',
  keycloak: 'EdNidhhDR32v_eRSJxGV6TmiT1O9Z7uml7r1exBvcY0',
  okta: 'XZ0LuAzO6k4Hh2J9fl5k8b5h3m2nLkP0qYRsB6cD7eE',
  auth0: 'qrmGrXjv0VxFsh4dXyKkg',
  cognito: 'abcdefghijklmnopqrsexample=',
  adfs: 'nP0kD3fLq8Vx2WmT7bYc5RgHs1A',
};

const ENTRA_V1 = entraHeader(1, KIDS.entra);
const ENTRA_V2 = entraHeader(2, KIDS.entra);
const KEYCLOAK = { typ: 'JWT' };
const ADFS = adfsHeader(KIDS.adfs);

interface DocCase {
  id: string;
  doc: string;
  /** Index of the ```json block in the guide. */
  snippet: number;
  key: KeyName;
  claims: Record<string, unknown>;
  header?: Record<string, unknown>;
  operation: string;
  reason: string;
  roleArn?: string;
}

const GUIDE_CASES: DocCase[] = [
  {
    id: 'entra-app-v1',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV1App(NOW, { roles: ['DICOM.Writer'] }),
    header: ENTRA_V1,
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'entra-app-v2-reader',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV2App(NOW, { roles: ['DICOM.Reader'] }),
    header: ENTRA_V2,
    operation: 'GetDICOMInstance',
    reason: 'allowed',
    roleArn: idp.READ_ONLY,
  },
  {
    id: 'entra-seed-app-without-roles',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV1App(NOW),
    header: ENTRA_V1,
    operation: 'StoreDICOM',
    reason: 'no_role_mapping',
  },
  {
    id: 'entra-user-v1',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV1User(NOW),
    header: ENTRA_V1,
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'entra-user-v1-client-id-audience',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV1User(NOW, { aud: idp.ENTRA_API_APP_ID }),
    header: ENTRA_V1,
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'entra-user-v2',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV2User(NOW),
    header: ENTRA_V2,
    operation: 'SearchDICOMStudies',
    reason: 'allowed',
    roleArn: idp.READ_ONLY,
  },
  {
    id: 'entra-other-tenant',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV2User(NOW, { tid: idp.ENTRA_OTHER_TENANT }),
    header: ENTRA_V2,
    operation: 'SearchDICOMStudies',
    reason: 'tenant_not_allowed',
  },
  {
    id: 'entra-groups',
    doc: 'idp/entra-id.md',
    snippet: 1,
    key: 'entra',
    claims: idp.entraWithGroups(NOW, [idp.ENTRA_RADIOLOGY_GROUP]),
    header: ENTRA_V2,
    operation: 'SearchDICOMStudies',
    reason: 'allowed',
    roleArn: idp.READ_ONLY,
  },
  {
    id: 'entra-group-overage',
    doc: 'idp/entra-id.md',
    snippet: 1,
    key: 'entra',
    claims: idp.entraGroupOverage(NOW),
    header: ENTRA_V2,
    operation: 'SearchDICOMStudies',
    reason: 'no_role_mapping',
  },
  {
    id: 'entra-id-token-v1',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV1UserId(NOW),
    header: ENTRA_V1,
    operation: 'SearchDICOMStudies',
    reason: 'token_type_invalid',
  },
  {
    id: 'entra-id-token-v2',
    doc: 'idp/entra-id.md',
    snippet: 0,
    key: 'entra',
    claims: idp.entraV2UserId(NOW),
    header: ENTRA_V2,
    operation: 'SearchDICOMStudies',
    reason: 'token_type_invalid',
  },
  {
    id: 'keycloak-service',
    doc: 'idp/keycloak.md',
    snippet: 0,
    key: 'keycloak',
    claims: idp.keycloakServiceAccount(NOW),
    header: KEYCLOAK,
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'keycloak-user',
    doc: 'idp/keycloak.md',
    snippet: 0,
    key: 'keycloak',
    claims: idp.keycloakUser(NOW),
    header: KEYCLOAK,
    operation: 'StoreDICOM',
    reason: 'operation_not_permitted',
  },
  {
    id: 'keycloak-user-with-nonce',
    doc: 'idp/keycloak.md',
    snippet: 0,
    key: 'keycloak',
    claims: idp.keycloakUserWithNonce(NOW),
    header: KEYCLOAK,
    operation: 'GetDICOMInstance',
    reason: 'allowed',
    roleArn: idp.READ_ONLY,
  },
  {
    id: 'keycloak-id-token',
    doc: 'idp/keycloak.md',
    snippet: 0,
    key: 'keycloak',
    claims: idp.keycloakUserId(NOW),
    header: KEYCLOAK,
    operation: 'GetDICOMInstance',
    reason: 'token_type_invalid',
  },
  {
    id: 'keycloak-exchanged-id-token',
    doc: 'idp/keycloak.md',
    snippet: 0,
    key: 'keycloak',
    claims: idp.keycloakExchangedId(NOW),
    header: KEYCLOAK,
    operation: 'GetDICOMInstance',
    reason: 'token_type_invalid',
  },
  {
    id: 'okta-user',
    doc: 'idp/okta.md',
    snippet: 0,
    key: 'okta',
    claims: idp.oktaUser(NOW),
    operation: 'SearchDICOMStudies',
    reason: 'allowed',
    roleArn: idp.READ_ONLY,
  },
  {
    id: 'okta-service',
    doc: 'idp/okta.md',
    snippet: 0,
    key: 'okta',
    claims: idp.oktaService(NOW),
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'okta-id-token',
    doc: 'idp/okta.md',
    snippet: 0,
    key: 'okta',
    claims: idp.oktaUserId(NOW),
    operation: 'SearchDICOMStudies',
    reason: 'token_type_invalid',
  },
  {
    id: 'okta-org-authorization-server',
    doc: 'idp/okta.md',
    snippet: 0,
    key: 'okta',
    claims: idp.oktaUser(NOW, {
      iss: 'https://dicom-example.okta.com',
      aud: 'https://dicom-example.okta.com',
    }),
    operation: 'SearchDICOMStudies',
    reason: 'issuer_invalid',
  },
  {
    id: 'auth0-user',
    doc: 'idp/auth0.md',
    snippet: 0,
    key: 'auth0',
    claims: idp.auth0User(NOW),
    header: { typ: 'JWT' },
    operation: 'SearchDICOMStudies',
    reason: 'allowed',
    roleArn: idp.READ_ONLY,
  },
  {
    id: 'auth0-service',
    doc: 'idp/auth0.md',
    snippet: 0,
    key: 'auth0',
    claims: idp.auth0Service(NOW),
    header: { typ: 'JWT' },
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'auth0-rfc9068-service',
    doc: 'idp/auth0.md',
    snippet: 1,
    key: 'auth0',
    claims: idp.auth0Rfc9068Service(NOW),
    header: { typ: 'at+jwt' },
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'auth0-wrong-profile',
    doc: 'idp/auth0.md',
    snippet: 1,
    key: 'auth0',
    claims: idp.auth0Rfc9068Service(NOW),
    header: { typ: 'JWT' },
    operation: 'StoreDICOM',
    reason: 'typ_invalid',
  },
  {
    id: 'auth0-id-token',
    doc: 'idp/auth0.md',
    snippet: 0,
    key: 'auth0',
    claims: idp.auth0UserId(NOW),
    header: { typ: 'JWT' },
    operation: 'SearchDICOMStudies',
    reason: 'token_type_invalid',
  },
  {
    id: 'cognito-user',
    doc: 'idp/cognito.md',
    snippet: 0,
    key: 'cognito',
    claims: idp.cognitoUserAccess(NOW),
    operation: 'SearchDICOMStudies',
    reason: 'allowed',
    roleArn: idp.READ_ONLY,
  },
  {
    id: 'cognito-service',
    doc: 'idp/cognito.md',
    snippet: 0,
    key: 'cognito',
    claims: idp.cognitoServiceAccess(NOW),
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'cognito-id-token',
    doc: 'idp/cognito.md',
    snippet: 0,
    key: 'cognito',
    claims: idp.cognitoUserId(NOW),
    operation: 'SearchDICOMStudies',
    reason: 'token_type_invalid',
  },
  {
    id: 'adfs-user',
    doc: 'idp/adfs.md',
    snippet: 0,
    key: 'adfs',
    claims: idp.adfsUser(NOW),
    header: ADFS,
    operation: 'SearchDICOMStudies',
    reason: 'allowed',
    roleArn: idp.READ_ONLY,
  },
  {
    id: 'adfs-service',
    doc: 'idp/adfs.md',
    snippet: 0,
    key: 'adfs',
    claims: idp.adfsService(NOW),
    header: ADFS,
    operation: 'StoreDICOM',
    reason: 'allowed',
    roleArn: idp.READ_WRITE,
  },
  {
    id: 'adfs-changed-identifier',
    doc: 'idp/adfs.md',
    snippet: 0,
    key: 'adfs',
    claims: idp.adfsUser(NOW, { iss: idp.ADFS_CHANGED_ISSUER }),
    header: ADFS,
    operation: 'SearchDICOMStudies',
    reason: 'issuer_invalid',
  },
  {
    id: 'adfs-id-token',
    doc: 'idp/adfs.md',
    snippet: 0,
    key: 'adfs',
    claims: idp.adfsUserId(NOW),
    header: ADFS,
    operation: 'SearchDICOMStudies',
    reason: 'issuer_invalid',
  },
];

const KEY_OF_GUIDE: Record<string, KeyName> = {
  'docs/idp/entra-id.md': 'entra',
  'docs/idp/keycloak.md': 'keycloak',
  'docs/idp/okta.md': 'okta',
  'docs/idp/auth0.md': 'auth0',
  'docs/idp/cognito.md': 'cognito',
  'docs/idp/adfs.md': 'adfs',
};

/** What the sandbox mints for an example, against the guide's block as printed (real issuer URLs). */
function profileCases(profile: IdpProfile): DocCase[] {
  const key = KEY_OF_GUIDE[profile.guide.file];
  if (key === undefined) throw new Error(`${profile.name}: no key for ${profile.guide.file}`);
  return profile.examples.map((example, index) => {
    const token = profile.tokens.find((candidate) => candidate.name === example.token);
    if (token === undefined) throw new Error(`${profile.name}: example ${index} names no token`);
    const route = routeDicomweb(example.method, `/datastore/${idp.DATASTORE}${example.path}`);
    if (!route.ok) throw new Error(`${profile.name}: example ${index} is not a DICOMweb request`);
    const docCase: DocCase = {
      id: `sandbox-${profile.name}-${example.token}-${route.operation}`,
      doc: profile.guide.file.replace(/^docs\//, ''),
      snippet: profile.guide.block,
      key,
      claims: token.claims(NOW),
      header: token.header(KIDS[key]),
      operation: route.operation,
      reason: example.promise.reason,
    };
    if (example.promise.roleArn !== undefined) docCase.roleArn = example.promise.roleArn;
    return docCase;
  });
}

const PROFILE_CASES = IDP_PROFILES.flatMap(profileCases);
const CASES: DocCase[] = [...GUIDE_CASES, ...PROFILE_CASES];

let keys: Record<KeyName, TestKey>;
let dir: string;
let jwksFile: string;
const docs = new Map<string, string>();

beforeAll(async () => {
  keys = {
    entra: await makeKey('RS256', KIDS.entra),
    keycloak: await makeKey('RS256', KIDS.keycloak),
    okta: await makeKey('RS256', KIDS.okta),
    auth0: await makeKey('RS256', KIDS.auth0),
    cognito: await makeKey('RS256', KIDS.cognito),
    adfs: await makeKey('RS256', KIDS.adfs),
  };
  dir = await mkdtemp(join(tmpdir(), 'ahi-docs-'));
  jwksFile = join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify(jwksOf(...Object.values(keys))));
  for (const file of await markdownFiles(DOCS)) docs.set(relative(DOCS, file), await readFile(file, 'utf8'));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function explain(docCase: DocCase, json: boolean) {
  const snippet = jsonBlocks(docs.get(docCase.doc) ?? '')[docCase.snippet];
  if (snippet === undefined) throw new Error(`${docCase.doc} has no json block ${docCase.snippet}`);
  const name = `${docCase.doc.replace(/[/.]/g, '-')}-${docCase.snippet}.json`;
  const configFile = join(dir, name);
  await writeFile(configFile, snippet);
  const token = await signToken(keys[docCase.key], docCase.claims, docCase.header ?? {});
  const io = fakeIo({ stdin: token });
  const args = ['explain', '--config', configFile, '--jwks', jwksFile, '--now', NOW_ISO];
  const code = await runCli([...args, '--operation', docCase.operation, ...(json ? ['--json'] : [])], io);
  const shown = io.out.replaceAll(configFile, name).replaceAll(jwksFile, 'jwks.json');
  return { code, out: shown, err: io.err };
}

describe('the json blocks in docs/', () => {
  it('exist in every per-IdP guide', () => {
    const guides = [...docs.keys()].filter((file) => file.startsWith('idp/') && file !== 'idp/README.md');
    expect(guides.sort()).toEqual([
      'idp/adfs.md',
      'idp/auth0.md',
      'idp/cognito.md',
      'idp/entra-id.md',
      'idp/keycloak.md',
      'idp/okta.md',
    ]);
    for (const guide of guides) expect(jsonBlocks(docs.get(guide) ?? '').length).toBeGreaterThan(0);
  });

  it('all validate against the configuration schema', () => {
    const problems: string[] = [];
    for (const [file, text] of docs) {
      jsonBlocks(text).forEach((block, index) => {
        const parsed = parseConfig(JSON.parse(block) as unknown);
        if (!parsed.ok) problems.push(`${file} block ${index}: ${JSON.stringify(parsed.issues)}`);
      });
    }
    expect(problems).toEqual([]);
  });

  // The IdP guides' snippets; docs/configuration.md prints examples/config.example.json, whose rules
  // test/policy/evaluate-policy.test.ts exercises.
  it('are each exercised by at least one token', () => {
    const exercised = new Set(CASES.map((c) => `${c.doc}#${c.snippet}`));
    const all = [...docs]
      .filter(([file]) => file.startsWith('idp/'))
      .flatMap(([file, text]) => jsonBlocks(text).map((_, index) => `${file}#${index}`));
    expect(all.filter((block) => !exercised.has(block))).toEqual([]);
  });
});

describe('the sandbox profiles', () => {
  it.each(IDP_PROFILES.map((profile) => [profile.name, profile] as const))(
    "%s runs its guide's json block unchanged",
    (_name, profile) => {
      const block = jsonBlocks(docs.get(profile.guide.file.replace(/^docs\//, '')) ?? '')[
        profile.guide.block
      ];

      expect(block).toBeDefined();
      expect(profile.config).toEqual(JSON.parse(block ?? 'null'));
    },
  );

  it.each(IDP_PROFILES.map((profile) => [profile.name, profile] as const))(
    '%s changes only its issuer and jwksUri URLs for the sandbox, each to its loopback form',
    (_name, profile) => {
      const origin = 'http://127.0.0.1:40123';
      const local = loopbackConfig(profile.config, origin);
      const restored = {
        ...local,
        issuers: local.issuers.map((issuer, index) => {
          const original = profile.config.issuers[index];
          expect(issuer.issuer).toBe(loopbackUrl(original?.issuer ?? '', origin));
          // An https issuer moves to loopback; an http one (AD FS's default identifier) is only a name.
          expect(issuer.issuer.startsWith(`${origin}/`)).toBe(original?.issuer.startsWith('https://'));
          expect(issuer.jwksUri).toBe(
            original?.jwksUri === undefined ? undefined : loopbackUrl(original.jwksUri, origin),
          );
          return {
            ...issuer,
            issuer: original?.issuer,
            ...(original?.jwksUri === undefined ? {} : { jwksUri: original.jwksUri }),
          };
        }),
      };

      expect(restored).toEqual(profile.config);
    },
  );

  it('name every token their examples use, and every guide has one', () => {
    for (const profile of IDP_PROFILES) {
      const names = profile.tokens.map((token) => token.name);
      expect(
        profile.examples.map((example) => example.token).filter((name) => !names.includes(name)),
      ).toEqual([]);
      expect(names.filter((name) => !profile.examples.some((example) => example.token === name))).toEqual([]);
    }
    const guides = [...docs.keys()].filter((file) => file.startsWith('idp/') && file !== 'idp/README.md');
    expect(
      guides.filter((guide) => !IDP_PROFILES.some((profile) => profile.guide.file === `docs/${guide}`)),
    ).toEqual([]);
  });

  it('are listed in docs/idp/README.md as they are defined', async () => {
    const file = 'idp/README.md';
    const text = docs.get(file) ?? '';
    const marker = /(<!-- sandbox-profiles -->\n)[\s\S]*?(<!-- \/sandbox-profiles -->)/;
    expect(text).toMatch(marker);
    const rendered = text.replace(
      marker,
      (_, open: string, close: string) => `${open}\n${renderProfiles()}\n\n${close}`,
    );
    if (rendered !== text && UPDATE) await writeFile(join(DOCS, file), rendered);
    if (!UPDATE) expect(rendered).toBe(text);
  });
});

/** The Markdown list of the profiles in docs/idp/README.md. */
function renderProfiles(): string {
  const sections = IDP_PROFILES.map((profile) => {
    const guide = profile.guide.file.replace(/^docs\/idp\//, '');
    const lines = [
      `### \`${profile.name}\``,
      '',
      `${profile.title}. Runs the ${ordinal(profile.guide.block)} \`json\` block of [${guide}](${guide}).`,
      '',
      ...profile.tokens.map((token) => `- token \`${token.name}\`: ${token.summary}`),
      '',
      "The banner's examples, decided by the handler at start; the guide promises:",
      '',
      ...profile.examples.map((example) => {
        const route = routeDicomweb(example.method, `/datastore/${idp.DATASTORE}${example.path}`);
        const operation = route.ok ? route.operation : example.path;
        const { reason, roleArn } = example.promise;
        const outcome =
          reason === 'allowed' ? `200, \`allowed\`, role \`${roleArn ?? ''}\`` : `403, \`${reason}\``;
        return `- ${example.title} (\`${example.token}\`, ${operation}): ${outcome}`;
      }),
    ];
    return lines.join('\n');
  });
  return sections.join('\n\n');
}

function ordinal(index: number): string {
  return ['first', 'second', 'third', 'fourth'][index] ?? `${index + 1}th`;
}

describe.each(CASES)('the $doc snippet $snippet with the $id token', (docCase) => {
  it(`decides ${docCase.reason}${docCase.roleArn ? ` with the documented role` : ''} for ${docCase.operation}`, async () => {
    const { code, out } = await explain(docCase, true);
    const report = JSON.parse(out) as { decision: string; reason?: string; roleArn?: string };

    expect(report.reason).toBe(docCase.reason);
    expect(code).toBe(docCase.reason === 'allowed' ? 0 : 1);
    if (docCase.roleArn !== undefined) expect(report.roleArn).toBe(docCase.roleArn);
  });
});

describe('the explain output shown in the guides', () => {
  const MARKER = /<!-- explain: ([a-z0-9-]+) -->\n(?:\n```text\n[\s\S]*?\n```\n)?/g;

  it('equals a real run of explain on the same token and snippet', async () => {
    const mismatches: string[] = [];
    let checked = 0;
    let written = 0;
    for (const [file, text] of docs) {
      written += text.split('<!-- explain:').length - 1;
      const ids = [...text.matchAll(MARKER)].map((match) => match[1] ?? '');
      checked += ids.length;
      if (ids.length === 0) continue;
      const outputs = new Map<string, string>();
      for (const id of ids) {
        const docCase = CASES.find((c) => c.id === id && c.doc === file);
        if (docCase === undefined) throw new Error(`${file}: no case for explain block ${id}`);
        outputs.set(id, (await explain(docCase, false)).out.trimEnd());
      }
      const rendered = text.replace(
        MARKER,
        (_, id: string) => `<!-- explain: ${id} -->\n\n\`\`\`text\n${outputs.get(id) ?? ''}\n\`\`\`\n`,
      );
      if (rendered === text) continue;
      if (UPDATE) await writeFile(join(DOCS, file), rendered);
      else mismatches.push(file);
    }
    expect(checked, 'no explain marker was checked').toBeGreaterThan(0);
    expect(checked, 'an explain marker the pattern does not read').toBe(written);
    expect(mismatches).toEqual([]);
  });
});

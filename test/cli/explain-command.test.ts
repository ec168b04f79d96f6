/**
 * `ahi-authorizer explain` in-process on seed-shaped tokens (Entra client credentials with and
 * without roles, v1/v2 issuers, Object vs Application ID, Keycloak realm roles, time claims),
 * verified offline with --jwks and evaluated at a frozen --now: exit codes, the key lines of the
 * trace, the hints, the --json shape, and that the token and unverified claims are never shown.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/tools/cli/run-cli.ts';
import { startIdpServer, type IdpServer } from '../support/idp-server.ts';
import { epoch, jwksOf, signToken } from '../support/keys.ts';
import { fakeIo } from '../support/fake-io.ts';
import {
  API_APP_ID,
  API_URI,
  APP_ID,
  DATASTORE,
  ENTRA_V1,
  ENTRA_V2,
  entraAppPayload,
  entraConfig,
  entraToken,
  entraUserPayload,
  KEYCLOAK,
  keycloakPayload,
  keycloakToken,
  makeSeedKeys,
  NOW,
  NOW_ISO,
  OBJECT_ID,
  RO,
  RW,
  type SeedFiles,
  type SeedKeys,
  writeSeedFiles,
} from '../support/fixtures/seed-tokens.ts';

let keys: SeedKeys;
let files: SeedFiles;
let config: string;

beforeAll(async () => {
  keys = await makeSeedKeys();
  files = await writeSeedFiles(keys);
  config = await files.config('config.json', entraConfig());
});

afterAll(async () => {
  await files?.remove();
});

async function explain(
  token: string,
  args: string[],
  options: { configPath?: string; tty?: boolean; env?: Record<string, string> } = {},
) {
  const io = fakeIo({
    stdin: token,
    ...(options.tty === undefined ? {} : { tty: options.tty }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const code = await runCli(
    ['explain', '--config', options.configPath ?? config, '--jwks', files.jwks, '--now', NOW_ISO, ...args],
    io,
  );
  return { code, out: io.out, err: io.err };
}

function expectTokenNotShown(output: string, token: string) {
  const [header, payload, signature] = token.split('.');
  expect(output).not.toContain(token);
  expect(output).not.toContain(payload);
  expect(output).not.toContain(signature);
  expect(header).toBeDefined();
}

describe('explain on an allowed token', () => {
  it('exits 0 and names the rule and role for an Entra app token that carries the app role', async () => {
    const token = await entraToken(keys, entraAppPayload({ roles: ['DICOM.Writer'] }));

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance']);

    expect(code).toBe(0);
    expect(out).toMatch(/\[ok\] signature +RS256 signature verified/);
    expect(out).toMatch(/\[ok\] exp +2026-11-23T12:55:00Z \(in 55 min\)/);
    expect(out).toMatch(/\[ok\] iat +.*inside the 12 h iat window/);
    expect(out).toMatch(/\[ok\] rules +rule pacs-app matched → arn:aws:iam::111122223333:role\/AhiReadWrite/);
    expect(out).toContain('ALLOW');
    expect(out).toContain(`HealthImaging assumes ${RW}`);
    expectTokenNotShown(out, token);
  });

  it('accepts a token with a Bearer prefix and surrounding whitespace', async () => {
    const token = await entraToken(keys, entraUserPayload());

    const { code, out } = await explain(`  Bearer ${token}\n`, ['--operation', 'StoreDICOM']);

    expect(code).toBe(0);
    expect(out).toContain('rule radiologists matched');
  });

  it('verifies against the live JWKS when no --jwks is given, and says where the key was found', async () => {
    const idp: IdpServer = await startIdpServer();
    try {
      idp.on('/keys', { kind: 'json', body: jwksOf(keys.entra) });
      const liveConfig = await files.config('live.json', {
        issuers: [{ issuer: idp.url, jwksUri: `${idp.url}/keys`, audience: API_URI }],
        rules: [{ name: 'readers', claims: { scp: 'Dicom.ReadWrite' }, roleArn: RO }],
      });
      const token = await entraToken(keys, entraUserPayload({ iss: idp.url }));
      const io = fakeIo({ stdin: token });

      const code = await runCli(
        ['explain', '--config', liveConfig, '--operation', 'GetDICOMInstance', '--now', NOW_ISO],
        io,
      );

      expect(code).toBe(0);
      expect(io.out).toMatch(
        new RegExp(
          `\\[ok\\] key +kid "JDNa_4i4r7FgigL3sHIlI3xV-IU" found in ${idp.url}/keys \\(fetched: jwks`,
        ),
      );
      expect(io.out).toContain('(placeholder; pass --datastore)');
    } finally {
      await idp.close();
    }
  });
});

describe('explain on the seed client-credentials token without roles', () => {
  it('exits 1 with no_role_mapping, names the failing condition of each rule and why', async () => {
    const token = await entraToken(keys, entraAppPayload());

    const { code, out } = await explain(token, ['--operation', 'StoreDICOM']);

    expect(code).toBe(1);
    expect(out).toMatch(/DENY +no_role_mapping/);
    expect(out).toContain('HealthImaging answers 403 "Access Denied"');
    expect(out).toMatch(/\[XX\] roles missing — expected "DICOM.Writer"/);
    expect(out).toContain(
      'why       rule pacs-app: claim roles missing; token has idtyp=app and no roles — app tokens carry application roles, assign one in the IdP',
    );
    expect(out).toContain('hint: client-credentials (app-only) tokens carry roles, not scp');
    expectTokenNotShown(out, token);
  });

  it('gives the same facts as JSON: decision, reason, steps, rules with conditions and hints', async () => {
    const token = await entraToken(keys, entraAppPayload());

    const { code, out } = await explain(token, ['--operation', 'StoreDICOM', '--json']);
    const report = JSON.parse(out) as Record<string, unknown>;

    expect(code).toBe(1);
    expect(report).toMatchObject({
      operation: 'StoreDICOM',
      datastoreId: DATASTORE,
      decision: 'deny',
      reason: 'no_role_mapping',
      signatureVerified: true,
      header: { alg: 'RS256', kid: 'JDNa_4i4r7FgigL3sHIlI3xV-IU', typ: 'JWT' },
      iss: ENTRA_V1,
      times: { exp: epoch(NOW, 3300), iat: epoch(NOW, -600), nbf: epoch(NOW, -600) },
      healthImaging: { status: 403, message: 'Access Denied', answer: { isTokenValid: true, roleArn: '' } },
    });
    const rules = report['rules'] as {
      rule: string;
      outcome: string;
      conditions: { path: string; hints: { id: string }[] }[];
    }[];
    expect(rules.map((rule) => [rule.rule, rule.outcome])).toEqual([
      ['radiologists', 'claims_mismatch'],
      ['pacs-app', 'claims_mismatch'],
      ['keycloak-readers', 'issuer_mismatch'],
    ]);
    const roles = rules[1]?.conditions.find((condition) => condition.path === 'roles');
    expect(roles?.hints.map((hint) => hint.id)).toEqual(['app-token-without-roles']);
    expect((report['steps'] as { step: string }[]).map((step) => step.step)).toEqual([
      'format',
      'header',
      'issuer',
      'key',
      'signature',
      'claims',
      'exp',
      'nbf',
      'iat',
      'type',
      'tenant',
      'audience',
      'client',
      'rules',
    ]);
    expect(report['why']).toMatch(/^rule pacs-app: claim roles missing/);
    expectTokenNotShown(out, token);
  });

  it('prints a decision for every HealthImaging operation without --operation', async () => {
    const token = await entraToken(keys, entraAppPayload());

    const { code, out } = await explain(token, ['--json']);
    const report = JSON.parse(out) as {
      operations: { operation: string; decision: string; reason: string }[];
      reason: string;
    };

    expect(code).toBe(1);
    expect(report.operations).toHaveLength(10);
    expect(
      report.operations.every((row) => row.decision === 'deny' && row.reason === 'no_role_mapping'),
    ).toBe(true);
    expect(report.reason).toBe('no_role_mapping');
  });
});

describe('explain on other seed stories', () => {
  it('hints at the Entra v1 / v2 mismatch and shows no claims before the signature verified', async () => {
    const v2Config = await files.config('v2.json', entraConfig(ENTRA_V2));
    const token = await entraToken(keys, entraAppPayload());

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance'], { configPath: v2Config });

    expect(code).toBe(1);
    expect(out).toMatch(/\[XX\] issuer +"https:\/\/sts\.windows\.net\/.*\/" is not a configured issuer/);
    expect(out).toContain('requestedAccessTokenVersion');
    expect(out).toMatch(
      /\[\.\.\] claims +not reached \(claims are shown only after the signature verified\)/,
    );
    expect(out).not.toContain(APP_ID);
    expect(out).not.toContain(OBJECT_ID);
    expect(out).not.toContain('idtyp');
  });

  it('marks the rules not reached in the operation table when the token fails before them', async () => {
    const v2Config = await files.config('v2-table.json', entraConfig(ENTRA_V2));
    const token = await entraToken(keys, entraAppPayload());

    const { code, out } = await explain(token, ['--json'], { configPath: v2Config });
    const report = JSON.parse(out) as {
      reason: string;
      steps: { step: string; status: string }[];
      operations: { reason: string }[];
      rules: unknown;
    };

    expect(code).toBe(1);
    expect(report.reason).toBe('issuer_invalid');
    expect(report.steps.find((step) => step.step === 'rules')?.status).toBe('skip');
    expect(report.operations.every((row) => row.reason === 'issuer_invalid')).toBe(true);
    expect(report.rules).toBeNull();
  });

  it('hints that a v2 token carries the API Application ID as aud', async () => {
    const v2Config = await files.config('v2-aud.json', entraConfig(ENTRA_V2));
    const token = await entraToken(keys, entraUserPayload({ iss: ENTRA_V2, aud: API_APP_ID, ver: '2.0' }));

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance', '--json'], {
      configPath: v2Config,
    });
    const report = JSON.parse(out) as { reason: string; hints: { id: string }[] };

    expect(code).toBe(1);
    expect(report.reason).toBe('audience_invalid');
    expect(report.hints.map((hint) => hint.id)).toEqual(['aud-guid-vs-uri']);
  });

  it('tells the Application (client) ID from the Object ID in an oid condition', async () => {
    const oidConfig = await files.config('oid.json', {
      ...entraConfig(),
      rules: [{ name: 'pacs-service', claims: { oid: APP_ID }, roleArn: RW }],
    });
    const token = await entraToken(keys, entraAppPayload());

    const { code, out } = await explain(token, ['--operation', 'StoreDICOM'], { configPath: oidConfig });

    expect(code).toBe(1);
    expect(out).toContain(`the rule lists the Application (client) ID "${APP_ID}"`);
    expect(out).toContain(`"${OBJECT_ID}" in this token`);
  });

  it('tells to assign the Keycloak realm role to the service account', async () => {
    const token = await keycloakToken(keys, keycloakPayload());

    const { code, out } = await explain(token, ['--operation', 'SearchDICOMStudies']);

    expect(code).toBe(1);
    expect(out).toMatch(/why +rule keycloak-readers: claim realm_access\.roles is/);
    expect(out).toContain('assign "user" to the service account (Clients → "curl" → Service account roles)');
  });

  it('allows the Keycloak token for reads once the realm role is assigned, and denies writes', async () => {
    const token = await keycloakToken(
      keys,
      keycloakPayload({ realm_access: { roles: ['offline_access', 'user'] } }),
    );

    const { code, out } = await explain(token, []);

    expect(code).toBe(0);
    expect(out).toMatch(/SearchDICOMStudies +read +allow +arn:aws:iam::111122223333:role\/AhiReadOnly/);
    expect(out).toMatch(/StoreDICOM +write +deny +operation_not_permitted/);
    expect(out).toMatch(
      /why +StoreDICOM, StoreDICOMStudy: operation_not_permitted: rule keycloak-readers matches this token/,
    );
  });

  it('says how long ago an expired token expired', async () => {
    const token = await entraToken(
      keys,
      entraUserPayload({
        iat: epoch(NOW, -4 * 3600),
        nbf: epoch(NOW, -4 * 3600),
        exp: epoch(NOW, -3 * 3600 - 720),
      }),
    );

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance']);

    expect(code).toBe(1);
    expect(out).toMatch(/\[XX\] exp +exp is not after now .*3 h 12 min ago/);
    expect(out).toContain('the token expired 3 h 12 min ago');
    expect(out).toContain('HealthImaging answers 403 "Invalid or Expired Token"');
  });

  it('explains the 12 h iat window for a token issued 13 h ago that has not expired', async () => {
    const token = await entraToken(
      keys,
      entraUserPayload({ iat: epoch(NOW, -13 * 3600), nbf: epoch(NOW, -13 * 3600), exp: epoch(NOW, 3600) }),
    );

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance', '--json']);
    const report = JSON.parse(out) as { reason: string; why: string };

    expect(code).toBe(1);
    expect(report.reason).toBe('token_lifetime_exceeded');
    expect(report.why).toContain('issued 13 h ago, beyond the 12 h iat window');
  });

  it('denies a tampered token with signature_invalid and shows no claim values', async () => {
    const token = await entraToken(keys, entraAppPayload({ roles: ['DICOM.Writer'] }));
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify(entraAppPayload({ roles: ['DICOM.Writer'], appid: 'forged-app' })),
    ).toString('base64url');
    const tampered = `${header}.${forged}.${signature}`;

    const { code, out } = await explain(tampered, ['--operation', 'GetDICOMInstance']);

    expect(code).toBe(1);
    expect(out).toMatch(/DENY +signature_invalid/);
    expect(out).not.toContain('forged-app');
    expect(out).not.toContain('DICOM.Writer');
    expectTokenNotShown(out, tampered);
  });

  it('lists the published kids when the token names an unknown kid', async () => {
    const token = await signToken(keys.stranger, entraAppPayload(), { typ: 'JWT' });

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance']);

    expect(code).toBe(1);
    expect(out).toMatch(/DENY +kid_unknown/);
    expect(out).toContain('kid "not-published-anywhere" is not in');
    expect(out).toContain('"JDNa_4i4r7FgigL3sHIlI3xV-IU"');
  });

  it('denies a Keycloak ID token (typ ID) with token_type_invalid, naming the marker', async () => {
    const token = await keycloakToken(
      keys,
      keycloakPayload({ typ: 'ID', aud: 'curl', realm_access: { roles: ['user'] } }),
    );

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance']);

    expect(code).toBe(1);
    expect(out).toMatch(/\[XX\] type +ID token: typ is ID/);
    expect(out).toContain('send the access_token from the token response');
  });

  it('says why a Keycloak access token with the nonce Keycloak copied into it passes the type check', async () => {
    const token = await keycloakToken(
      keys,
      keycloakPayload({ nonce: 'n-0S6_WzA2Mj', realm_access: { roles: ['user'] } }),
    );

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance']);

    expect(code).toBe(0);
    expect(out).toMatch(
      /\[ok\] type +access token \(typ "Bearer"; Keycloak copies the nonce into access tokens\)/,
    );
  });

  it('shows the type check as not applied, with the marker, when the issuer sets acceptIdTokens', async () => {
    const optIn = entraConfig();
    optIn.issuers[1] = { ...optIn.issuers[1]!, acceptIdTokens: true };
    const configPath = await files.config('accept-id-tokens.json', optIn);
    const token = await keycloakToken(
      keys,
      keycloakPayload({ typ: 'ID', aud: 'curl', realm_access: { roles: ['user'] } }),
    );

    const { code, out } = await explain(token, ['--operation', 'GetDICOMInstance'], { configPath });

    expect(code).toBe(0);
    expect(out).toMatch(/\[--\] type +ID tokens accepted \(acceptIdTokens\); ID token: typ is ID/);
  });
});

describe('explain usage and output format', () => {
  it('exits 2 with the JSON path of each problem for an invalid config', async () => {
    const broken = await files.config('broken.json', {
      issuers: [{ issuer: KEYCLOAK, clientIds: ['curl'], audiance: 'x' } as never],
      rules: [{ name: 'r', claims: { a: 1 }, roleArn: RO }],
    });
    const io = fakeIo({ stdin: 'x.y.z' });

    const code = await runCli(['explain', '--config', broken], io);

    expect(code).toBe(2);
    expect(io.err).toContain('$.issuers[0].audiance: unknown key (check for a typo)');
  });

  it('exits 2 naming a repeated key by its JSON path instead of explaining with the last one', async () => {
    // Arrange: the Keycloak rule reads as read-only; JSON.parse would keep its second operations.
    const text = JSON.stringify(entraConfig()).replace(
      '"operations":["read"]',
      '"operations":["read"],"operations":["read","write"]',
    );
    const repeated = join(files.dir, 'repeated.json');
    await writeFile(repeated, text);
    const issue = {
      path: '$.rules[2].operations',
      message: 'duplicate key "operations" (JSON keeps only the last one)',
    };
    const io = fakeIo({ stdin: 'x.y.z' });
    const jsonIo = fakeIo({ stdin: 'x.y.z' });

    // Act
    const code = await runCli(['explain', '--config', repeated, '--jwks', files.jwks], io);
    const jsonCode = await runCli(['explain', '--config', repeated, '--jwks', files.jwks, '--json'], jsonIo);

    // Assert
    expect(code).toBe(2);
    expect(io.err).toContain(`${repeated} is not a valid configuration:\n${issue.path}: ${issue.message}`);
    expect(jsonCode).toBe(2);
    expect(JSON.parse(jsonIo.out)).toEqual({ error: 'config_invalid', file: repeated, issues: [issue] });
  });

  it('exits 2 for a --jwks file that is no JWKS, instead of denying with idp_unavailable', async () => {
    // Arrange: a file of another kind, and a set whose only key is private (never used).
    const token = await entraToken(keys, entraAppPayload());
    const notJwks = join(files.dir, 'not-jwks.json');
    const privateOnly = join(files.dir, 'private-only.json');
    await writeFile(notJwks, JSON.stringify({ issuer: ENTRA_V2 }));
    await writeFile(privateOnly, JSON.stringify({ keys: [{ ...jwksOf(keys.entra).keys[0], d: 'private' }] }));
    const run = async (file: string) => {
      const io = fakeIo({ stdin: token });
      const code = await runCli(['explain', '--config', config, '--jwks', file, '--now', NOW_ISO], io);
      return { code, out: io.out, err: io.err };
    };

    // Act
    const wrongKind = await run(notJwks);
    const unusable = await run(privateOnly);

    // Assert
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.out).toBe('');
    expect(wrongKind.err).toBe(
      `ahi-authorizer: cannot use --jwks ${notJwks}: not a JWKS (JWKS "keys" is not an array)\n` +
        `run: npm run -s ahi-authorizer -- explain --help (--jwks FILE: the IdP's key set, {"keys": [...]}, as its jwks_uri serves it)\n`,
    );
    expect(unusable.code).toBe(2);
    expect(unusable.err).toContain(
      `cannot use --jwks ${privateOnly}: JWKS has no usable signing key (1 published, 1 dropped)\n`,
    );
  });

  it('notes on stderr an --operation that is not HealthImaging’s, and still decides it', async () => {
    const token = await entraToken(keys, entraAppPayload());

    const typo = await explain(token, ['--operation', 'StoreDicom']);
    const known = await explain(token, ['--operation', 'StoreDICOM']);

    expect(typo.code).toBe(1);
    expect(typo.out).toContain('unknown_operation');
    expect(typo.err).toBe('note: StoreDicom is not a HealthImaging operation (did you mean StoreDICOM?)\n');
    expect(known.err).toBe('');
  });

  it('exits 2 when no token is given on an interactive terminal', async () => {
    const io = fakeIo();

    const code = await runCli(['explain', '--config', config], io);

    expect(code).toBe(2);
    expect(io.err).toContain('no token');
  });

  it('exits 2 without echoing a token passed as a stray argument', async () => {
    const token = await entraToken(keys, entraAppPayload());
    const io = fakeIo();

    const code = await runCli(['explain', '--config', config, token], io);

    expect(code).toBe(2);
    expect(io.err).toBe(
      'error: unexpected argument for explain (not shown); a token goes on stdin or after --token\n' +
        'run: npm run -s ahi-authorizer -- explain --help\n',
    );
    expect(io.err).not.toContain(token);
  });

  it('exits 2 for a malformed --now or --datastore', async () => {
    const bad = [
      ['--now', 'yesterday'],
      ['--datastore', 'UPPER-CASE'],
    ];
    for (const args of bad) {
      const io = fakeIo({ stdin: 'a.b.c' });
      expect(await runCli(['explain', '--config', config, ...args], io)).toBe(2);
    }
  });

  it('uses colour and symbols on a terminal, and plain text when NO_COLOR is set', async () => {
    const token = await entraToken(keys, entraUserPayload());

    const coloured = await explain(token, ['--operation', 'GetDICOMInstance'], { tty: true });
    const plain = await explain(token, ['--operation', 'GetDICOMInstance'], {
      tty: true,
      env: { NO_COLOR: '1' },
    });

    expect(coloured.out).toContain('\x1b[32m✓\x1b[0m');
    expect(plain.out).not.toContain('\x1b[');
    expect(plain.out).toContain('[ok]');
  });
});

/**
 * `sandbox --profile NAME` end to end, one sandbox per profile with the built handler
 * (dist/authorizer/authorizer.mjs, so `npm run build` must have run): the decisions the banner prints
 * hold at start and over real HTTP, with a token minted by `POST /sandbox/tokens/<name>` sent to the
 * emulator. Nothing is left running.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../../src/tools/cli/parse-cli-args.ts';
import { IDP_PROFILES, loopbackUrl } from '../../../src/tools/sandbox/idp-profiles.ts';
import { describeOutcome, renderSandboxBanner } from '../../../src/tools/sandbox/render-sandbox-banner.ts';
import { type Sandbox, startSandbox } from '../../../src/tools/sandbox/start-sandbox.ts';
import { createTerminalStyle } from '../../../src/tools/cli/shared/terminal-style.ts';

const plain = createTerminalStyle(false);

function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each(IDP_PROFILES.map((profile) => [profile.name, profile] as const))(
  'the sandbox with --profile %s',
  (_name, profile) => {
    let sandbox: Sandbox;

    beforeAll(async () => {
      sandbox = await startSandbox({ profile: profile.name, port: 0 });
    });

    afterAll(async () => {
      await sandbox?.close();
    });

    it("decided each of the banner's examples at start as the guide promises", () => {
      expect(
        sandbox.examples.map(({ title, reason, roleArn, kept }) => ({ title, reason, roleArn, kept })),
      ).toEqual(
        profile.examples.map(({ title, promise }) => ({
          title,
          reason: promise.reason,
          roleArn: promise.roleArn,
          kept: true,
        })),
      );
      expect(sandbox.examples.map((example) => example.status)).toEqual(
        profile.examples.map(({ promise }) => (promise.reason === 'allowed' ? 200 : 403)),
      );
    });

    it('answers the same over its HTTP endpoints: a minted token, then the DICOMweb request', async () => {
      for (const example of profile.examples) {
        const source = sandbox.tokenSources.find((candidate) => candidate.name === example.token);
        if (source?.kind !== 'mint') throw new Error(`no mint URL for ${example.token}`);
        const minted = await fetch(source.url, { method: 'POST' });
        expect(minted.status).toBe(200);
        const token = (await minted.text()).trim();

        const response = await fetch(`${sandbox.dicomweb}${example.path}`, {
          method: example.method,
          headers: { authorization: `Bearer ${token}` },
          ...(example.method === 'POST' ? { body: 'not really DICOM' } : {}),
        });
        await response.arrayBuffer();

        expect({
          title: example.title,
          status: response.status,
          reason: response.headers.get('x-authorizer-reason'),
          role: response.headers.get('x-authorizer-role'),
        }).toEqual({
          title: example.title,
          status: example.promise.reason === 'allowed' ? 200 : 403,
          reason: example.promise.reason,
          role: example.promise.roleArn ?? null,
        });
      }
    });

    it("mints the IdP's header and its claims, with the issuer in loopback form", async () => {
      for (const token of profile.tokens) {
        const minted = await sandbox.getToken(token.name);
        const header = decodeProtectedHeader(minted);
        const claims = decodeJwt(minted);
        const documented = token.claims(Date.now());

        expect(header).toEqual({ alg: 'RS256', kid: profile.kid, ...token.header(profile.kid) });
        expect(Object.keys(claims).sort()).toEqual(Object.keys(documented).sort());
        expect(claims.iss).toBe(loopbackUrl(String(documented['iss']), idpOrigin(sandbox)));
        expect(claims.aud).toEqual(documented['aud']);
      }
    });

    it("loads the guide's configuration with its URLs on loopback and serves them", async () => {
      const loaded = JSON.parse(await readFile(sandbox.effectiveConfigPath, 'utf8')) as typeof profile.config;
      const origin = idpOrigin(sandbox);

      expect(loaded.rules).toEqual(profile.config.rules);
      expect(loaded.issuers.map((issuer) => issuer.issuer)).toEqual(
        profile.config.issuers.map((issuer) => loopbackUrl(issuer.issuer, origin)),
      );
      for (const issuer of loaded.issuers) {
        const keysUrl =
          issuer.jwksUri ??
          (
            (await (
              await fetch(`${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)
            ).json()) as {
              jwks_uri: string;
            }
          ).jwks_uri;
        const jwks = (await (await fetch(keysUrl)).json()) as { keys: { kid: string; use: string }[] };
        expect(jwks.keys.filter((key) => key.use === 'sig').map((key) => key.kid)).toEqual([profile.kid]);
      }
    });

    it('prints those decisions in the banner, each next to its request', () => {
      const banner = renderSandboxBanner(sandbox, plain);

      for (const example of sandbox.examples) {
        expect(banner).toContain(
          `${example.title} (${example.operation ?? ''}) → ${describeOutcome(example)}`,
        );
      }
      expect(banner).not.toContain('promises');
      for (const source of sandbox.tokenSources) {
        if (source.kind === 'mint') expect(banner).toContain(`TOKEN=$(curl -s -X POST ${source.url})`);
      }
    });

    it("prints explain for the emulator's datastore, and what each issuer stands for", () => {
      const banner = renderSandboxBanner(sandbox, plain);

      expect(banner).toContain(
        `explain --config ${sandbox.effectiveConfigPath} --datastore ${sandbox.datastoreId}\n`,
      );
      for (const issuer of sandbox.issuers) {
        // An http issuer (AD FS's default identifier) stays as it is: a name, never a place to fetch.
        expect(banner).toContain(
          issuer.url === issuer.standsFor
            ? `${issuer.url}  (an identifier only, never fetched: keys come from the guide's pinned jwksUri, on 127.0.0.1)`
            : `${issuer.url}  (stands for ${issuer.standsFor})`,
        );
      }
    });

    it('stops the IdP, the emulator and the handler process on close()', async () => {
      const pid = sandbox.handlerPid();
      expect(isRunning(pid)).toBe(true);

      await sandbox.close();

      expect(isRunning(pid)).toBe(false);
      await expect(fetch(`${sandbox.dicomweb}/studies`)).rejects.toThrow();
      await expect(fetch(sandbox.tokenEndpoint)).rejects.toThrow();
    });
  },
);

describe('the banner of the embedded provider', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ahi-banner-test-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the promises of sandbox/README.md with the bundled configuration', async () => {
    const sandbox = await startSandbox({ port: 0 });
    try {
      expect(
        sandbox.examples.map(({ token, status, reason, kept }) => ({ token, status, reason, kept })),
      ).toEqual([
        { token: 'dicom-reader', status: 200, reason: 'allowed', kept: true },
        { token: 'dicom-reader', status: 403, reason: 'operation_not_permitted', kept: true },
        { token: 'dicom-writer', status: 200, reason: 'allowed', kept: true },
      ]);
    } finally {
      await sandbox.close();
    }
  });

  it('prints what the handler decides for a configuration of your own, with no promise', async () => {
    const bundled = JSON.parse(
      await readFile(resolve(import.meta.dirname, '../../../sandbox/config.json'), 'utf8'),
    ) as { rules: { name: string }[] };
    const configPath = join(dir, 'writers-only.json');
    await writeFile(
      configPath,
      JSON.stringify({ ...bundled, rules: bundled.rules.filter((rule) => rule.name === 'dicom-writers') }),
    );
    const sandbox = await startSandbox({ port: 0, configPath });
    try {
      const banner = renderSandboxBanner(sandbox, plain);

      expect(sandbox.examples[0]).toMatchObject({ status: 403, reason: 'no_role_mapping' });
      expect(sandbox.examples[0]?.promise).toBeUndefined();
      expect(banner).toContain(
        'the reader searches studies (SearchDICOMStudies) → 403 "Access Denied" (no_role_mapping)',
      );
      expect(banner).not.toContain('promises');
    } finally {
      await sandbox.close();
    }
  });

  it('flags a decision that is not the promised one', () => {
    const sandbox = {
      profile: 'okta',
      profileTitle: 'Okta',
      issuer: 'http://127.0.0.1:1/x',
      issuers: [{ url: 'http://127.0.0.1:1/x' }],
      dicomweb: 'http://127.0.0.1:2/datastore/sandbox0000000000000000000000ahi',
      configPath: 'docs/idp/okta.md',
      configSource: 'docs/idp/okta.md, json block 1',
      effectiveConfigPath: '/tmp/config.json',
      trustsEmbeddedIdp: true,
      handlerPath: '/tmp/authorizer.mjs',
      tokenSources: [
        { kind: 'mint', name: 'viewer', summary: 's', url: 'http://127.0.0.1:1/sandbox/tokens/viewer' },
      ],
      examples: [
        {
          title: 'the radiologist searches studies',
          token: 'viewer',
          method: 'GET',
          path: '/studies',
          operation: 'SearchDICOMStudies',
          promise: { reason: 'allowed', roleArn: 'arn:aws:iam::111122223333:role/R' },
          status: 403,
          message: 'Access Denied',
          reason: 'no_role_mapping',
          kept: false,
        },
      ],
    } as unknown as Sandbox;

    const banner = renderSandboxBanner(sandbox, plain);

    expect(banner).toContain('→ 403 "Access Denied" (no_role_mapping)');
    expect(banner).toContain(
      'not what docs/idp/okta.md promises: allowed, role arn:aws:iam::111122223333:role/R',
    );
  });
});

describe('sandbox --profile on the command line', () => {
  it('takes the profile names and refuses others', () => {
    expect(parseCliArgs(['sandbox', '--profile', 'entra-v2-app'])).toEqual({
      ok: true,
      value: { command: 'sandbox', profile: 'entra-v2-app', json: false },
    });
    const unknown = parseCliArgs(['sandbox', '--profile', 'pingfederate']);
    expect(unknown.ok).toBe(false);
    expect(unknown.ok ? '' : unknown.message).toContain(
      IDP_PROFILES.map((profile) => profile.name).join(', '),
    );
  });

  it('refuses --config with an IdP profile, which carries its own', async () => {
    const both = parseCliArgs(['sandbox', '--profile', 'okta', '--config', 'mine.json']);

    expect(both.ok).toBe(false);
    await expect(startSandbox({ profile: 'okta', configPath: 'mine.json' })).rejects.toThrow(
      /leave out --config/,
    );
  });
});

/**
 * The profile IdP's loopback origin, from its token-minting URL: an http issuer (AD FS's default
 * identifier) stays a name and does not say where the IdP listens.
 */
function idpOrigin(sandbox: Sandbox): string {
  const mint = sandbox.tokenSources.find((source) => source.kind === 'mint');
  if (mint === undefined || mint.kind !== 'mint') throw new Error('the profile mints no tokens');
  return new URL(mint.url).origin;
}

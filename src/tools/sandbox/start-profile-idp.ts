/**
 * The identity provider of an IdP profile (`sandbox --profile NAME`) on 127.0.0.1: it serves the
 * discovery documents and JWKS the authorizer fetches, at loopback forms of the real URLs
 * (idp-profiles.ts, loopbackUrl), and mints the IdP's documented token shapes, signed with its own
 * RS256 key. Callers must `close()` it.
 */

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, type JWK } from 'jose';
import type { Clock } from '../../core/kernel/clock.ts';
import { discoveryUrl } from '../../core/keys/discovery.ts';
import { type IdpProfile, loopbackConfig, loopbackUrl, type ProfileConfig } from './idp-profiles.ts';

export const TOKENS_PATH = '/sandbox/tokens';

export interface RunningProfileIdp {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The profile's configuration with its issuer and JWKS URLs on this server. */
  config: ProfileConfig;
  /** The loopback form of each configured issuer, with the public issuer it stands for. */
  issuers: { url: string; standsFor: string }[];
  /** Where `POST` mints the named token. */
  tokenUrl(name: string): string;
  /** Mints a token over real HTTP, as the banner's curl command does. */
  getToken(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface StartProfileIdpOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** For the minted tokens' iat/exp; default the system clock. */
  now?: Clock;
}

interface Reply {
  status: number;
  type: string;
  body: string;
}

const json = (body: unknown) => ({ type: 'application/json', body: `${JSON.stringify(body)}\n` });
const UNAVAILABLE: Reply = { status: 503, type: 'text/plain', body: '' };

async function publicJwk(key: KeyObject, extra: JWK): Promise<JWK> {
  const { kty, n, e } = await exportJWK(key);
  return { kty, use: 'sig', kid: extra.kid, n, e, ...extra } as JWK;
}

/**
 * A server of its own, not the embedded oidc-provider, whose JWT access tokens always carry
 * `typ: at+jwt`, an `aud` and its own issuer: these shapes need `typ: JWT` or none, no aud (Cognito),
 * two issuers of one tenant (Entra v1 and v2) and IdP-specific claims.
 */
export async function startProfileIdp(
  profile: IdpProfile,
  options: StartProfileIdpOptions = {},
): Promise<RunningProfileIdp> {
  const now = options.now ?? Date.now;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keys: JWK[] = [
    await publicJwk(publicKey, { kid: profile.kid, ...(profile.jwkAlg ? { alg: 'RS256' } : {}) }),
  ];
  if (profile.encryptionKey) {
    const encryption = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    keys.push(
      await publicJwk(encryption, { kid: `${profile.kid.slice(0, 8)}-enc`, alg: 'RSA-OAEP', use: 'enc' }),
    );
  }

  const routes = new Map<string, { type: string; body: string }>();
  // Listening first gives the port, which the routes' URLs carry; requests are answered once they exist.
  const router: { handle?: (method: string, path: string) => Promise<Reply> } = {};
  const server: Server = createServer((req, res) => {
    res.setHeader('connection', 'close');
    req.resume();
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const reply = router.handle?.(req.method ?? 'GET', path) ?? Promise.resolve(UNAVAILABLE);
    void reply
      .catch((): Reply => ({ status: 500, ...json({ error: 'sandbox error' }) }))
      .then(({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loopbackConfig(profile.config, origin);
  // Simplified JWKS: no x5c certificate chains.
  const jwks = json({ keys });
  for (const [index, issuer] of config.issuers.entries()) {
    const publicIssuer = profile.config.issuers[index]?.issuer ?? '';
    const jwksUri = issuer.jwksUri ?? loopbackUrl(profile.jwksUriFor(publicIssuer), origin);
    routes.set(new URL(jwksUri).pathname, jwks);
    if (issuer.jwksUri === undefined) {
      routes.set(
        new URL(discoveryUrl(issuer.issuer)).pathname,
        json({
          issuer: issuer.issuer,
          jwks_uri: jwksUri,
          token_endpoint: `${origin}${TOKENS_PATH}`,
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
    }
  }

  /** The named token, minted now: the IdP's shape, its iss on this server, signed with this key. */
  const mint = async (name: string): Promise<string | undefined> => {
    const token = profile.tokens.find((candidate) => candidate.name === name);
    if (token === undefined) return undefined;
    const claims = token.claims(now());
    if (typeof claims['iss'] === 'string') claims['iss'] = loopbackUrl(claims['iss'], origin);
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'RS256', kid: profile.kid, ...token.header(profile.kid) })
      .sign(privateKey);
  };
  router.handle = async (method, path) => {
    const route = routes.get(path);
    if (route !== undefined && method === 'GET') return { status: 200, ...route };
    if (path === TOKENS_PATH && method === 'GET') {
      return { status: 200, ...json(profile.tokens.map(({ name, summary }) => ({ name, summary }))) };
    }
    if (path.startsWith(`${TOKENS_PATH}/`) && method === 'POST') {
      const token = await mint(decodeURIComponent(path.slice(TOKENS_PATH.length + 1)));
      if (token !== undefined) return { status: 200, type: 'text/plain', body: `${token}\n` };
      return { status: 404, ...json({ error: 'unknown token', tokens: profile.tokens.map((t) => t.name) }) };
    }
    return { status: 404, ...json({ error: 'not found' }) };
  };

  return {
    origin,
    config,
    issuers: config.issuers.map((issuer, index) => ({
      url: issuer.issuer,
      standsFor: profile.config.issuers[index]?.issuer ?? '',
    })),
    tokenUrl: (name) => `${origin}${TOKENS_PATH}/${name}`,
    getToken: async (name) => {
      const response = await fetch(`${origin}${TOKENS_PATH}/${encodeURIComponent(name)}`, { method: 'POST' });
      if (response.status !== 200) throw new Error(`minting ${name} answered HTTP ${response.status}`);
      return (await response.text()).trim();
    },
    close,
  };
}

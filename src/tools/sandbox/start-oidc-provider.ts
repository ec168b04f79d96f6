/**
 * The embedded OpenID Provider of the sandbox and tests: the certified `oidc-provider` package (v9)
 * on 127.0.0.1, issuing RFC 9068 JWT access tokens (`typ: at+jwt`) to demo clients by
 * client-credentials grant over real HTTP, all for the one resource server `audience`, with each
 * client's registered scopes. Callers must `close()` it.
 */

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, type JWK } from 'jose';
import { errorCode } from '../cli/shared/print-failure.ts';

export type OidcSigningAlg = 'RS256' | 'ES256';

export interface OidcProviderClient {
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes the client is registered for (and gets by default). */
  scope: string;
}

export interface RunningOidcProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash; exactly the `iss` of the tokens. */
  issuer: string;
  /** From the discovery document: `<issuer>/jwks`. */
  jwksUri: string;
  /** From the discovery document: `<issuer>/token`. */
  tokenEndpoint: string;
  /** The resource server the tokens are for; exactly their `aud` (a string, not an array). */
  audience: string;
  /** 'dicom-reader' (scope 'dicom.read') and 'dicom-writer' (scope 'dicom.read dicom.write'). */
  clients: OidcProviderClient[];
  /** Algorithm the access tokens are signed with. */
  signingAlg: OidcSigningAlg;
  /**
   * The private JWKs (with kid, alg, use) the provider holds; their public halves are its JWKS. Pass
   * them back as `keys` to restart with the same keys, e.g. on the same `port`.
   */
  signingKeys: JWK[];
  /**
   * Client-credentials token over real HTTP (POST to the token endpoint, client_secret_basic).
   * `scope` defaults to the client's full registered scope; pass '' to request none (the token then
   * has no `scope` claim). Rejects with the provider's error on a non-200 answer.
   */
  getToken(clientId: string, options?: { scope?: string }): Promise<string>;
  /**
   * Stops the server and destroys every open connection; nothing is left running. (Answers carry
   * `connection: close`, so clients hold no keep-alive sockets to it in the first place.)
   */
  close(): Promise<void>;
}

export interface StartOidcProviderOptions {
  /** Default: the `alg` of `keys[0]` when keys are given, else 'RS256'. */
  signingAlg?: OidcSigningAlg;
  /** Default 0 (any free port). Reuse a closed provider's port to keep the same issuer. */
  port?: number;
  /** Default 600. */
  accessTokenTtlSeconds?: number;
  /**
   * Private JWKs to sign with instead of freshly generated ones. All are published in the JWKS; the
   * first one whose alg is `signingAlg` signs. Restart with new keys to simulate rotation.
   */
  keys?: JWK[];
}

/** The audience (resource indicator) of every token the provider issues. */
export const OIDC_PROVIDER_AUDIENCE = 'https://dicomweb.healthimaging.test';

const RESOURCE_SCOPE = 'dicom.read dicom.write';

const CLIENTS: readonly { clientId: string; scope: string }[] = [
  { clientId: 'dicom-reader', scope: 'dicom.read' },
  { clientId: 'dicom-writer', scope: 'dicom.read dicom.write' },
];

// --- Minimal local types for the untyped `oidc-provider` package ------------------------------------

interface OidcProviderInstance {
  readonly issuer: string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: string, listener: (...args: unknown[]) => void): this;
}

interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProviderInstance;
  errors: { InvalidTarget: new (description?: string) => Error };
}

let modulePromise: Promise<OidcProviderModule> | undefined;

/**
 * Imports oidc-provider once. On Node < 22 its module body warns "Unsupported runtime"; that one line
 * is filtered while the import runs and console.warn is restored right after.
 */
function loadOidcProvider(): Promise<OidcProviderModule> {
  modulePromise ??= (async () => {
    const original = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime'))
        return;
      original.apply(console, args);
    };
    try {
      // A non-literal specifier: the package ships no types, and the local interface above stands in.
      const specifier: string = 'oidc-provider';
      return (await import(specifier)) as OidcProviderModule;
    } catch (error) {
      // A development dependency (docs/adr/0007-core-and-tools-apart.md): present in a clone after
      // npm ci, absent where only the runtime dependencies were installed.
      if (errorCode(error) === 'ERR_MODULE_NOT_FOUND') {
        throw new Error(
          "the sandbox's embedded OpenID Provider needs the development dependency oidc-provider: " +
            'run npm ci in a clone of the repository, or start a profile (--profile), which needs none',
        );
      }
      throw error;
    } finally {
      console.warn = original;
    }
  })();
  return modulePromise;
}

/**
 * Storage for oidc-provider's models. Supplying one (rather than relying on the built-in default)
 * avoids its "development-only in-memory adapter" warning; it has no timers, so nothing outlives close().
 */
function createMapAdapter() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAt: number | undefined }>();
  return class MapAdapter {
    constructor(private readonly model: string) {}

    private key(id: string): string {
      return `${this.model}:${id}`;
    }

    private live(key: string): Record<string, unknown> | undefined {
      const entry = store.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
        store.delete(key);
        return undefined;
      }
      return entry.payload;
    }

    private findBy(field: string, value: string): Record<string, unknown> | undefined {
      for (const key of store.keys()) {
        if (!key.startsWith(`${this.model}:`)) continue;
        const payload = this.live(key);
        if (payload?.[field] === value) return payload;
      }
      return undefined;
    }

    // The adapter interface is asynchronous; this in-memory store answers at once.
    upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
      store.set(this.key(id), { payload: structuredClone(payload), expiresAt });
      return Promise.resolve();
    }

    find(id: string): Promise<Record<string, unknown> | undefined> {
      return Promise.resolve(this.live(this.key(id)));
    }

    findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      return Promise.resolve(this.findBy('uid', uid));
    }

    findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      return Promise.resolve(this.findBy('userCode', userCode));
    }

    consume(id: string): Promise<void> {
      const payload = this.live(this.key(id));
      if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    }

    destroy(id: string): Promise<void> {
      store.delete(this.key(id));
      return Promise.resolve();
    }

    revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, entry] of store) {
        if (entry.payload['grantId'] === grantId) store.delete(key);
      }
      return Promise.resolve();
    }
  };
}

async function generateSigningKey(alg: OidcSigningAlg): Promise<JWK> {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `oidc-${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

function canSign(key: JWK, alg: OidcSigningAlg): boolean {
  if (key.alg !== undefined) return key.alg === alg;
  return alg === 'RS256' ? key.kty === 'RSA' : key.kty === 'EC' && key.crv === 'P-256';
}

export async function startOidcProvider(
  options: StartOidcProviderOptions = {},
): Promise<RunningOidcProvider> {
  const firstAlg = options.keys?.[0]?.alg;
  const signingAlg: OidcSigningAlg = options.signingAlg ?? (firstAlg === 'ES256' ? 'ES256' : 'RS256');
  const ttl = options.accessTokenTtlSeconds ?? 600;
  const signingKeys = options.keys
    ? options.keys.map((key) => ({ ...key }))
    : [await generateSigningKey(signingAlg)];
  if (!signingKeys.some((key) => key.d !== undefined && canSign(key, signingAlg))) {
    throw new Error(`startOidcProvider: no private key in options.keys can sign ${signingAlg}`);
  }

  const { default: Provider, errors } = await loadOidcProvider();

  // Listen first so the issuer can carry the real port; requests are routed once the Provider exists.
  // Every answer says `connection: close`: a client (undici's global pool included) then never keeps
  // a socket that close() would destroy under it, so a later fetch to the same port, whether to a
  // restarted provider or to nothing, fails or succeeds cleanly rather than with "other side closed".
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    res.setHeader('connection', 'close');
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  try {
    const issuer = `http://127.0.0.1:${port}`;
    const clients: OidcProviderClient[] = CLIENTS.map((client) => ({
      ...client,
      clientSecret: randomBytes(24).toString('base64url'),
    }));

    // Access tokens carry iss, sub (= client_id), aud (= audience), client_id, scope, iat, exp, jti.
    const resourceServer = {
      scope: RESOURCE_SCOPE,
      audience: OIDC_PROVIDER_AUDIENCE,
      accessTokenFormat: 'jwt',
      accessTokenTTL: ttl,
      jwt: { sign: { alg: signingAlg } },
    };

    const provider = new Provider(issuer, {
      adapter: createMapAdapter(),
      jwks: { keys: signingKeys.map((key) => ({ ...key })) },
      // Listing the API scopes here is what makes oidc-provider enforce each client's `scope`
      // allow-list for them (it only checks scopes it knows as static).
      scopes: ['openid', ...RESOURCE_SCOPE.split(' ')],
      clients: clients.map((client) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: client.scope,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: signingAlg,
      })),
      clientDefaults: {
        grant_types: ['client_credentials'],
        response_types: [],
        id_token_signed_response_alg: signingAlg,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      ttl: { ClientCredentials: ttl },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => Promise.resolve(OIDC_PROVIDER_AUDIENCE),
          useGrantedResource: () => Promise.resolve(true),
          getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) =>
            resourceIndicator === OIDC_PROVIDER_AUDIENCE
              ? Promise.resolve(resourceServer)
              : Promise.reject(new errors.InvalidTarget(`unknown resource ${resourceIndicator}`)),
        },
      },
    });

    const serverErrors: unknown[] = [];
    provider.on('server_error', (_ctx, error) => serverErrors.push(error));
    handler = provider.callback();

    const discoveryResponse = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!discoveryResponse.ok) throw new Error(`discovery answered HTTP ${discoveryResponse.status}`);
    const discovery = (await discoveryResponse.json()) as Record<string, unknown>;
    const jwksUri = discovery['jwks_uri'];
    const tokenEndpoint = discovery['token_endpoint'];
    if (typeof jwksUri !== 'string' || typeof tokenEndpoint !== 'string') {
      throw new Error('discovery document lacks jwks_uri or token_endpoint');
    }

    const getToken = async (clientId: string, tokenOptions: { scope?: string } = {}): Promise<string> => {
      const client = clients.find((candidate) => candidate.clientId === clientId);
      if (!client) throw new Error(`startOidcProvider: unknown client ${clientId}`);
      const scope = tokenOptions.scope ?? client.scope;
      const body = new URLSearchParams({ grant_type: 'client_credentials' });
      if (scope !== '') body.set('scope', scope);
      // RFC 6749 section 2.3.1: form-urlencode the id and secret before base64.
      const basic = Buffer.from(
        `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
      ).toString('base64');
      const response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      const json = (await response.json()) as Record<string, unknown>;
      if (response.status !== 200 || typeof json['access_token'] !== 'string') {
        const detail = serverErrors.length > 0 ? `; server error: ${String(serverErrors.at(-1))}` : '';
        throw new Error(`token endpoint answered HTTP ${response.status}: ${JSON.stringify(json)}${detail}`);
      }
      return json['access_token'];
    };

    return {
      issuer: provider.issuer,
      jwksUri,
      tokenEndpoint,
      audience: OIDC_PROVIDER_AUDIENCE,
      clients,
      signingAlg,
      signingKeys,
      getToken,
      close: closeServer,
    };
  } catch (error) {
    await closeServer();
    throw error;
  }
}

/**
 * The most likely cause of a denial, as data: hint tables per decision reason and per failed rule
 * condition, each entry a predicate and a text; specific entries beat the generic fallback. Claim
 * values reach a hint only after the signature verified. The Entra / Keycloak facts come from real
 * 403 reports (test/support/fixtures/seed-tokens.ts).
 */

import type { AuthorizerConfig, ClaimScalar, IssuerConfig } from '../../../core/config/schema.ts';
import { KNOWN_OPERATIONS } from '../../../core/contract/healthimaging.ts';
import type { Reason } from '../../../core/decision/reason-codes.ts';
import type { ConditionResult } from '../../../core/policy/evaluate-policy.ts';
import { cliCommand } from '../command-form.ts';
import { formatDuration } from './format-duration.ts';
import { showAlternatives, showValue } from './show-value.ts';
import { type TlsHintInput, tlsHint } from './tls-hints.ts';

export interface Hint {
  id: string;
  text: string;
}

export interface HintRule<C> {
  id: string;
  /** A fallback speaks only when no specific entry of its table matched. */
  fallback?: boolean;
  when(ctx: C): boolean;
  text(ctx: C): string;
}

export interface DecisionHintContext {
  reason: Reason;
  /** The failing step's detail from the Decision (fixed text, never token bytes). */
  detail: string;
  config: AuthorizerConfig;
  configFile: string;
  /** The token's `iss` as sent: unverified, but the issuer may be shown before the signature. */
  iss?: string;
  header?: { alg?: string; kid?: string; typ?: string };
  /** The configured issuer the token named. */
  issuer?: IssuerConfig;
  /** Verified claims: set only after the signature verified. */
  claims?: Readonly<Record<string, unknown>>;
  nowMs: number;
  operation?: string;
  datastoreId?: string;
  /** Where the issuer's keys came from and which kids it publishes (IdP data). */
  keys?: { source: string; kids: readonly string[] };
  /** The issuer's last fetch failed in TLS: why, and the CA bundle the fetch trusted, if any. */
  tls?: TlsHintInput;
  /** Rules whose issuer and claims matched, but not this operation or datastore. */
  claimMatchedRules?: readonly {
    rule: string;
    operations?: readonly string[];
    datastores?: readonly string[];
  }[];
}

export interface ConditionHintContext {
  condition: ConditionResult;
  /** Verified claims (a condition result exists only after the signature verified). */
  claims: Readonly<Record<string, unknown>>;
}

// --- claim helpers -----------------------------------------------------------------------------

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function own(claims: Readonly<Record<string, unknown>> | undefined, name: string): unknown {
  return claims !== undefined && Object.hasOwn(claims, name) ? claims[name] : undefined;
}

function ownString(claims: Readonly<Record<string, unknown>> | undefined, name: string): string | undefined {
  const value = own(claims, name);
  return typeof value === 'string' ? value : undefined;
}

/** RFC 9068 client_id, then azp, then Entra v1 appid (the order validateClaims uses). */
function clientOf(claims: Readonly<Record<string, unknown>> | undefined) {
  for (const name of ['client_id', 'azp', 'appid'] as const) {
    const value = ownString(claims, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function audiences(claims: Readonly<Record<string, unknown>> | undefined): string[] {
  const aud = own(claims, 'aud');
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((value): value is string => typeof value === 'string') : [];
}

function configuredAudiences(issuer: IssuerConfig | undefined): string[] {
  const audience = issuer?.audience;
  if (audience === undefined) return [];
  return typeof audience === 'string' ? [audience] : [...audience];
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

const isAppToken = (claims: Readonly<Record<string, unknown>>) => own(claims, 'idtyp') === 'app';

const keycloakHint = (claims: Readonly<Record<string, unknown>>) => {
  const client = ownString(claims, 'azp') ?? ownString(claims, 'client_id');
  return client === undefined ? 'Clients → <your client>' : `Clients → ${showValue(client)}`;
};

// --- issuers -----------------------------------------------------------------------------------

const ENTRA_V1 = /^https:\/\/sts\.windows\.net\/([0-9a-fA-F-]{36})\/$/;
const ENTRA_V2 = /^https:\/\/login\.microsoftonline\.com\/([0-9a-fA-F-]{36})\/v2\.0$/;

export function entraIssuer(iss: string): { version: 1 | 2; tenant: string } | undefined {
  const v1 = ENTRA_V1.exec(iss);
  if (v1?.[1] !== undefined) return { version: 1, tenant: v1[1].toLowerCase() };
  const v2 = ENTRA_V2.exec(iss);
  if (v2?.[1] !== undefined) return { version: 2, tenant: v2[1].toLowerCase() };
  return undefined;
}

/** The Entra authority (sign-in) URL people paste as the issuer: https://login.microsoftonline.com/<tenant>/ */
const ENTRA_AUTHORITY = /^https:\/\/login\.microsoftonline\.com\/([0-9a-fA-F-]{36})\/?$/;

const v1Issuer = (tenant: string) => `https://sts.windows.net/${tenant}/`;
const v2Issuer = (tenant: string) => `https://login.microsoftonline.com/${tenant}/v2.0`;

/**
 * Why `seen` (a token's iss, or the issuer a discovery document publishes) matches none of the
 * `configured` issuers, most specific first. `subject` names where `seen` came from.
 */
export function issuerMismatchHints(seen: string, configured: readonly string[], subject: string): Hint[] {
  const hints: Hint[] = [];
  const entra = entraIssuer(seen);
  for (const candidate of configured) {
    const other = entraIssuer(candidate);
    const authority = ENTRA_AUTHORITY.exec(candidate)?.[1]?.toLowerCase();
    if (entra && authority === entra.tenant) {
      hints.push({
        id: 'entra-authority-not-issuer',
        text:
          `${subject} is ${entra.version === 1 ? v1Issuer(entra.tenant) : v2Issuer(entra.tenant)}; the configured ${candidate} is ` +
          `the Entra sign-in (authority) URL, not an issuer. Entra v1 tokens carry iss ${v1Issuer(entra.tenant)}, v2 tokens ` +
          `${v2Issuer(entra.tenant)}: configure the one your tokens carry (decode one with explain).`,
      });
    } else if (entra && other && entra.tenant === other.tenant && entra.version !== other.version) {
      hints.push(
        entra.version === 1
          ? {
              id: 'entra-v1-token-v2-config',
              text:
                `${subject} is the Entra ID v1 issuer ${v1Issuer(entra.tenant)}, the config expects the v2 issuer ` +
                `${candidate}. The API's app registration picks the token version: set "requestedAccessTokenVersion": 2 ` +
                `in its manifest (accessTokenAcceptedVersion in the legacy manifest) to get v2 tokens, or add an issuer ` +
                `for ${v1Issuer(entra.tenant)} (jwksUri https://login.microsoftonline.com/${entra.tenant}/discovery/keys).`,
            }
          : {
              id: 'entra-v2-token-v1-config',
              text:
                `${subject} is the Entra ID v2 issuer ${v2Issuer(entra.tenant)}, the config expects the v1 issuer ` +
                `${candidate}. The API's app registration asks for v2 tokens (requestedAccessTokenVersion 2): configure ` +
                `the issuer ${v2Issuer(entra.tenant)} (jwksUri https://login.microsoftonline.com/${entra.tenant}/discovery/v2.0/keys), ` +
                `or set the version to 1 (null) to get v1 tokens.`,
            },
      );
    } else if (entra && other && entra.tenant !== other.tenant) {
      hints.push({
        id: 'entra-other-tenant',
        text:
          `${subject} names the Entra tenant ${entra.tenant}, the configured issuer ${candidate} the tenant ` +
          `${other.tenant}: the token comes from another directory (check the tenant in the token request URL).`,
      });
    } else if (seen.replace(/\/+$/, '') === candidate.replace(/\/+$/, '')) {
      hints.push({
        id: 'issuer-trailing-slash',
        text: `${subject} differs from the configured ${candidate} only by a trailing "/": issuers compare byte for byte, configure exactly ${seen}.`,
      });
    } else if (seen.toLowerCase() === candidate.toLowerCase()) {
      hints.push({
        id: 'issuer-letter-case',
        text: `${subject} differs from the configured ${candidate} only in letter case: issuers compare byte for byte.`,
      });
    } else if (
      seen.replace('/auth/realms/', '/realms/') === candidate.replace('/auth/realms/', '/realms/') &&
      seen !== candidate
    ) {
      hints.push({
        id: 'keycloak-auth-path',
        text: `${subject} and the configured ${candidate} differ by Keycloak's legacy /auth path (Keycloak before 17, or KC_HTTP_RELATIVE_PATH=/auth): configure the issuer exactly as ${seen}.`,
      });
    } else {
      const realm = /^(.*)\/realms\/([^/]+)$/.exec(seen);
      const configuredRealm = /^(.*)\/realms\/([^/]+)$/.exec(candidate);
      if (realm && configuredRealm && realm[1] === configuredRealm[1] && realm[2] !== configuredRealm[2]) {
        hints.push({
          id: 'keycloak-other-realm',
          text: `${subject} is Keycloak realm ${showValue(realm[2])}, the configured issuer realm ${showValue(configuredRealm[2])}: request the token from the configured realm, or add this realm's issuer.`,
        });
      }
    }
  }
  if (hints.length === 0) {
    hints.push({
      id: 'issuer-not-configured',
      text: `${subject} ${seen} is not one of the configured issuers (${configured.join(', ')}): add it to issuers[] if you trust this identity provider; issuers compare byte for byte.`,
    });
  }
  return hints;
}

// --- decision hints ----------------------------------------------------------------------------

const ISSUER_HINTS = (ctx: DecisionHintContext): Hint[] =>
  ctx.iss === undefined
    ? [
        {
          id: 'iss-absent',
          text: 'the token has no iss string: it is not an OIDC/OAuth JWT access token this authorizer can verify.',
        },
      ]
    : issuerMismatchHints(
        ctx.iss,
        ctx.config.issuers.map((issuer) => issuer.issuer),
        "the token's iss",
      );

function timeClaim(ctx: DecisionHintContext, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = own(ctx.claims, name);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export const DECISION_HINTS: readonly HintRule<DecisionHintContext>[] = [
  {
    id: 'issuer',
    when: (ctx) => ctx.reason === 'issuer_invalid' && ctx.claims === undefined,
    text: () => '', // expanded by decisionHints (several specific hints)
  },
  {
    id: 'token-expired',
    when: (ctx) => ctx.reason === 'token_expired' && timeClaim(ctx, 'exp') !== undefined,
    text: (ctx) =>
      `the token expired ${formatDuration(ctx.nowMs - (timeClaim(ctx, 'exp') ?? 0) * 1000)} ago: get a fresh token (clients should renew before exp; Entra access tokens live 60-90 min, Keycloak's 5 min by default).`,
  },
  {
    id: 'iat-window',
    when: (ctx) =>
      ctx.reason === 'token_lifetime_exceeded' &&
      ctx.detail.startsWith('iat') &&
      timeClaim(ctx, 'iat') !== undefined,
    text: (ctx) =>
      `the token was issued ${formatDuration(ctx.nowMs - (timeClaim(ctx, 'iat') ?? 0) * 1000)} ago, beyond the ${formatDuration(
        ctx.config.maxTokenAgeSeconds * 1000,
      )} iat window: HealthImaging refuses tokens issued more than 12 h ago even when exp is later. Get a fresh token, and keep token lifetimes under 12 h.`,
  },
  {
    id: 'exp-not-finite',
    when: (ctx) => ctx.reason === 'token_lifetime_exceeded' && ctx.detail.startsWith('exp'),
    text: () =>
      'exp is not a finite number of seconds up to 2^53 - 1 (e.g. JSON 1e400): the IdP issues a malformed token.',
  },
  {
    id: 'not-yet-valid',
    when: (ctx) => ctx.reason === 'token_not_yet_valid',
    text: (ctx) => {
      const name = ctx.detail.startsWith('nbf') ? 'nbf' : 'iat';
      const at = timeClaim(ctx, name);
      const ahead = at === undefined ? '' : ` ${formatDuration(at * 1000 - ctx.nowMs)}`;
      return `${name} is${ahead} in the future (clock tolerance ${ctx.issuer?.clockToleranceSeconds ?? 30} s): this machine's clock or the IdP's is off, or --now is earlier than the token.`;
    },
  },
  {
    id: 'claim-missing',
    when: (ctx) => ctx.reason === 'claim_missing',
    text: (ctx) =>
      `${ctx.detail}: HealthImaging requires exp and iat, and RFC 9068 access tokens carry sub; an opaque or ID-style token from the wrong endpoint lacks them.`,
  },
  {
    id: 'id-token',
    when: (ctx) => ctx.reason === 'token_type_invalid',
    text: () =>
      'this is an ID token: send the access_token from the token response, not the id_token (ID tokens identify a user to the client, they do not authorize API calls).',
  },
  {
    id: 'tenant-absent',
    when: (ctx) =>
      ctx.reason === 'tenant_not_allowed' &&
      ctx.claims !== undefined &&
      ownString(ctx.claims, 'tid') === undefined,
    text: (ctx) =>
      `the token has no tid, but the issuer pins tenantId ${ctx.issuer?.tenantId ?? ''}: only Entra ID tokens carry tid; remove tenantId for other IdPs.`,
  },
  {
    id: 'tenant-other',
    when: (ctx) => ctx.reason === 'tenant_not_allowed' && ownString(ctx.claims, 'tid') !== undefined,
    text: (ctx) =>
      `the token's tid is ${showValue(ownString(ctx.claims, 'tid'))}, the issuer's tenantId ${showValue(ctx.issuer?.tenantId)}: the token comes from another Entra directory (multi-tenant app, or the wrong tenant in the token request URL).`,
  },
  {
    id: 'aud-absent',
    when: (ctx) =>
      ctx.reason === 'audience_invalid' && ctx.claims !== undefined && own(ctx.claims, 'aud') === undefined,
    text: () =>
      'the token has no aud: Keycloak adds one only with an Audience mapper on a client scope of the requesting client; Entra sets it from the requested scope (api://…/.default).',
  },
  {
    id: 'aud-guid-vs-uri',
    when: (ctx) =>
      ctx.reason === 'audience_invalid' &&
      audiences(ctx.claims).some((aud) => GUID.test(aud)) &&
      configuredAudiences(ctx.issuer).some((aud) => !GUID.test(aud)),
    text: (ctx) => {
      const guid = audiences(ctx.claims).find((aud) => GUID.test(aud)) ?? '';
      return `aud is a GUID (${guid}), the config expects ${showAlternatives(configuredAudiences(ctx.issuer))}: Entra v2 tokens carry the API's Application (client) ID as aud, v1 tokens its Application ID URI. If ${guid} is your API's Application ID, add it to audience.`;
    },
  },
  {
    id: 'aud-uri-vs-guid',
    when: (ctx) =>
      ctx.reason === 'audience_invalid' &&
      audiences(ctx.claims).some((aud) => !GUID.test(aud)) &&
      configuredAudiences(ctx.issuer).length > 0 &&
      configuredAudiences(ctx.issuer).every((aud) => GUID.test(aud)),
    text: (ctx) =>
      `aud is ${showValue(audiences(ctx.claims))}, the config lists the GUID ${showAlternatives(configuredAudiences(ctx.issuer))}: Entra v1 tokens carry the Application ID URI (api://…) as aud, v2 tokens the Application (client) ID. Add the URI to audience if it names your API.`,
  },
  {
    id: 'aud-other-resource',
    fallback: true,
    when: (ctx) => ctx.reason === 'audience_invalid' && ctx.claims !== undefined,
    text: (ctx) => {
      const wanted = configuredAudiences(ctx.issuer);
      return `aud is ${showValue(audiences(ctx.claims))}, the issuer expects ${showAlternatives(wanted)}: the token was requested for another API. With client credentials, request scope=${wanted[0] ?? '<audience>'}/.default (Entra) or add an Audience mapper (Keycloak).`;
    },
  },
  {
    id: 'client-absent',
    when: (ctx) =>
      ctx.reason === 'client_not_allowed' && ctx.claims !== undefined && clientOf(ctx.claims) === undefined,
    text: () =>
      'the token names no client (client_id, azp or appid): clientIds cannot be checked; use audience instead.',
  },
  {
    id: 'client-ids-hold-object-id',
    when: (ctx) => {
      const oid = ownString(ctx.claims, 'oid');
      return (
        ctx.reason === 'client_not_allowed' &&
        oid !== undefined &&
        (ctx.issuer?.clientIds ?? []).includes(oid)
      );
    },
    text: (ctx) => {
      const client = clientOf(ctx.claims);
      return `clientIds lists ${showValue(ownString(ctx.claims, 'oid'))}, the service principal's Object ID; clientIds take the Application (client) ID, ${client?.name} ${showValue(client?.value)} in this token.`;
    },
  },
  {
    id: 'client-not-listed',
    fallback: true,
    when: (ctx) => ctx.reason === 'client_not_allowed' && clientOf(ctx.claims) !== undefined,
    text: (ctx) => {
      const client = clientOf(ctx.claims);
      return `the token's ${client?.name} is ${showValue(client?.value)}, not one of clientIds ${showValue(ctx.issuer?.clientIds ?? [])}: add it if this client is trusted (Entra: the Application (client) ID; Keycloak: the client id).`;
    },
  },
  {
    id: 'alg-symmetric',
    when: (ctx) => ctx.reason === 'alg_not_allowed' && /^(HS|none$)/i.test(ctx.header?.alg ?? ''),
    text: (ctx) =>
      `the token is signed with ${showValue(ctx.header?.alg)}: shared-secret (HS*) and unsigned tokens are never accepted; configure the IdP client to sign access tokens with RS256 or ES256.`,
  },
  {
    id: 'alg-not-listed',
    fallback: true,
    when: (ctx) => ctx.reason === 'alg_not_allowed' && ctx.issuer !== undefined,
    text: (ctx) =>
      `the token is signed with ${showValue(ctx.header?.alg)}, the issuer allows ${showValue(ctx.issuer?.algorithms ?? [])}: add it to algorithms if the IdP signs with it.`,
  },
  {
    id: 'typ',
    when: (ctx) => ctx.reason === 'typ_invalid',
    text: (ctx) =>
      `the token's typ is ${ctx.header?.typ === undefined ? 'absent' : showValue(ctx.header.typ)}, the issuer requires ${showValue(ctx.issuer?.tokenType)}: Entra ID and Keycloak access tokens carry typ "JWT"; only RFC 9068 IdPs send "at+jwt". Remove tokenType, or set it to what your IdP sends.`,
  },
  {
    id: 'kid-missing',
    when: (ctx) => ctx.reason === 'kid_missing',
    text: () =>
      'the header has no kid: every JWKS-publishing IdP sets one; the token was probably not issued by the configured IdP.',
  },
  {
    id: 'kid-unknown',
    when: (ctx) => ctx.reason === 'kid_unknown',
    text: (ctx) => {
      const keys = ctx.keys;
      const where =
        keys === undefined ? "the issuer's JWKS" : `${keys.source} (kids ${showValue(keys.kids)})`;
      return `kid ${showValue(ctx.header?.kid)} is not in ${where}: the token comes from another tenant, realm or environment, or its key rotated out. Entra apps with their own signing key (claims mapping) publish it only at …/discovery/keys?appid=<client id>: pin that as jwksUri.`;
    },
  },
  {
    id: 'jwks-ambiguous',
    when: (ctx) => ctx.reason === 'jwks_ambiguous_key',
    text: (ctx) =>
      `two keys in ${ctx.keys?.source ?? "the issuer's JWKS"} share kid ${showValue(ctx.header?.kid)}: the IdP's JWKS is broken; no key is chosen by guesswork.`,
  },
  {
    id: 'idp-tls',
    when: (ctx) => ctx.reason === 'idp_unavailable' && ctx.tls !== undefined,
    text: (ctx) => {
      const hint = ctx.tls === undefined ? '' : tlsHint(ctx.tls);
      return `${hint}${hint.endsWith('?') ? '' : '.'} Then run \`${cliCommand(`check --config ${ctx.configFile}`)}\` to test discovery and JWKS.`;
    },
  },
  {
    id: 'idp-unavailable',
    when: (ctx) => ctx.reason === 'idp_unavailable' && ctx.tls === undefined,
    text: (ctx) =>
      `no keys could be fetched (${ctx.detail}): run \`${cliCommand(`check --config ${ctx.configFile}`)}\` to test discovery and JWKS, or verify offline with --jwks FILE.`,
  },
  {
    id: 'signature',
    when: (ctx) => ctx.reason === 'signature_invalid',
    text: () =>
      'the signature does not match the key with this kid: the token was altered or truncated (paste it whole, without quotes or line breaks), or another key is published under the same kid.',
  },
  {
    id: 'malformed',
    when: (ctx) => ctx.reason === 'token_malformed' || ctx.reason === 'token_missing',
    text: () =>
      'pass the raw access token (three base64url parts separated by dots), without quotes or line breaks; opaque and encrypted (JWE) tokens cannot be verified by an authorizer.',
  },
  {
    id: 'too-large',
    when: (ctx) => ctx.reason === 'token_too_large',
    text: () =>
      'the token is over the 16 KiB cap: trim what the IdP puts in it (group lists, large custom claims).',
  },
  {
    id: 'header',
    when: (ctx) => ctx.reason === 'header_forbidden_param' || ctx.reason === 'header_invalid',
    text: (ctx) =>
      `${ctx.detail}: tokens that carry their own keys, key URLs or JWS extensions are refused (RFC 8725).`,
  },
  {
    id: 'claims-invalid',
    when: (ctx) => ctx.reason === 'claims_invalid',
    text: (ctx) =>
      `${ctx.detail}: the payload breaks the JWT claim types (RFC 7519), which is refused rather than guessed.`,
  },
  {
    id: 'unknown-datastore',
    when: (ctx) => ctx.reason === 'unknown_datastore',
    text: (ctx) =>
      `datastore ${ctx.datastoreId ?? ''} is not in datastores ${showValue(ctx.config.datastores ?? [])}: pass --datastore with one of them, or add it.`,
  },
  {
    id: 'unknown-operation',
    when: (ctx) => ctx.reason === 'unknown_operation',
    text: (ctx) =>
      `${showValue(ctx.operation)} is not a HealthImaging operation; known: ${KNOWN_OPERATIONS.join(', ')}.`,
  },
  {
    id: 'operation-not-covered',
    when: (ctx) => ctx.reason === 'operation_not_permitted' && (ctx.claimMatchedRules?.length ?? 0) > 0,
    text: (ctx) =>
      (ctx.claimMatchedRules ?? [])
        .map(
          (rule) =>
            `rule ${rule.rule} matches this token but covers ${rule.operations ? `operations ${showValue(rule.operations)}` : 'all operations'}${
              rule.datastores ? ` on datastores ${showValue(rule.datastores)}` : ''
            }, not ${ctx.operation ?? 'this operation'}${rule.datastores ? ` on ${ctx.datastoreId ?? 'this datastore'}` : ''}`,
        )
        .join('; ') +
      ': use a client whose token maps to a role for this operation, or extend the rule if this client should have it.',
  },
  {
    id: 'deadline',
    when: (ctx) => ctx.reason === 'deadline_exceeded',
    text: () =>
      `the time budget ran out, usually waiting for a slow IdP: run \`${cliCommand('check --config FILE')}\` to see fetch timings.`,
  },
];

// --- condition hints ---------------------------------------------------------------------------

const expectedStrings = (condition: ConditionResult) =>
  condition.expected.filter((value): value is string => typeof value === 'string');

const sample = (condition: ConditionResult): readonly ClaimScalar[] => condition.actualSample ?? [];

export const CONDITION_HINTS: readonly HintRule<ConditionHintContext>[] = [
  {
    id: 'app-token-without-roles',
    when: ({ condition, claims }) => condition.path === 'roles' && !condition.found && isAppToken(claims),
    text: () =>
      'token has idtyp=app and no roles — app tokens carry application roles, assign one in the IdP (Entra: define an app role for Applications on the API registration, add it to the client under API permissions → Application permissions, then grant admin consent)',
  },
  {
    id: 'app-like-token-without-roles',
    when: ({ condition, claims }) =>
      condition.path === 'roles' &&
      !condition.found &&
      !isAppToken(claims) &&
      own(claims, 'scp') === undefined &&
      own(claims, 'appid') !== undefined,
    text: () =>
      'token has no scp and no roles, so it is app-only (client credentials) — app tokens carry application roles, assign one in the IdP (Entra: API permissions → Application permissions → grant admin consent)',
  },
  {
    id: 'user-token-without-roles',
    when: ({ condition, claims }) =>
      condition.path === 'roles' && !condition.found && typeof own(claims, 'scp') === 'string',
    text: () =>
      'this is a delegated (user) token with scp and no roles: users get roles only when they, or a group of theirs, are assigned an app role (Enterprise applications → Users and groups); or match scp instead',
  },
  {
    id: 'scp-on-app-token',
    when: ({ condition, claims }) =>
      condition.path === 'scp' &&
      !condition.found &&
      (isAppToken(claims) || own(claims, 'roles') !== undefined),
    text: () =>
      'client-credentials (app-only) tokens carry roles, not scp: add a rule on roles for this client, e.g. {"idtyp": "app", "roles": "DICOM.Writer"}',
  },
  {
    id: 'scope-not-scp',
    when: ({ condition, claims }) =>
      condition.path === 'scp' && !condition.found && own(claims, 'scope') !== undefined,
    text: ({ claims }) =>
      `this IdP puts scopes in scope (${showValue(own(claims, 'scope'))}), not scp: Entra uses scp, Keycloak, Okta, Cognito and RFC 9068 use scope; match "scope"`,
  },
  {
    id: 'scp-not-scope',
    when: ({ condition, claims }) =>
      condition.path === 'scope' && !condition.found && own(claims, 'scp') !== undefined,
    text: ({ claims }) =>
      `this token carries its scopes in scp (${showValue(own(claims, 'scp'))}), Entra ID's name for them: match "scp"`,
  },
  {
    id: 'entra-group-overage',
    // Entra omits `groups` past its limit (200 in a JWT) and signals the overage instead.
    when: ({ condition, claims }) =>
      condition.path === 'groups' &&
      !condition.found &&
      (own(claims, 'hasgroups') === true || Object.hasOwn(asRecord(own(claims, '_claim_names')), 'groups')),
    text: () =>
      'the token signals an Entra ID group overage (_claim_names / hasgroups instead of groups: the user is in more groups than fit in a token). This authorizer does not call Microsoft Graph, so groups cannot match: map access with app roles (assign the group to an app role of the API; the token then carries roles) or use group filtering (Token configuration → groups claim → "Groups assigned to the application") so the token carries groups again',
  },
  {
    id: 'oid-is-client-id',
    when: ({ condition, claims }) => {
      const client = clientOf(claims);
      return (
        condition.path === 'oid' &&
        condition.found &&
        !condition.holds &&
        client !== undefined &&
        condition.expected.includes(client.value)
      );
    },
    text: ({ claims }) =>
      `the rule lists the Application (client) ID ${showValue(clientOf(claims)?.value)}; oid is the service principal's Object ID (Enterprise applications → your app → Object ID), ${showValue(ownString(claims, 'oid'))} in this token`,
  },
  {
    id: 'keycloak-realm-roles-missing',
    // An Entra token (tid) lacks realm_access for another reason: the rule is not for it.
    when: ({ condition, claims }) =>
      condition.path === 'realm_access.roles' && !condition.found && own(claims, 'tid') === undefined,
    text: ({ condition, claims }) =>
      `the token has no realm_access.roles: assign the realm role ${showAlternatives(condition.expected)} to the client's service account (${keycloakHint(claims)} → Service account roles → Assign role), and keep the "roles" client scope on the client`,
  },
  {
    id: 'keycloak-realm-role-not-assigned',
    when: ({ condition }) => condition.path === 'realm_access.roles' && condition.found && !condition.holds,
    text: ({ condition, claims }) =>
      `the token's realm roles are ${showValue(sample(condition))}: assign ${showAlternatives(condition.expected)} to the service account (${keycloakHint(claims)} → Service account roles) or to the user`,
  },
  {
    id: 'keycloak-client-roles',
    when: ({ condition }) => /^resource_access\.[^.]+\.roles$/.test(condition.path) && !condition.holds,
    text: ({ condition }) => {
      const client = condition.path.split('.')[1] ?? '';
      return `${condition.path} holds the client roles of Keycloak client ${showValue(client)}: create ${showAlternatives(condition.expected)} under Clients → ${showValue(client)} → Roles and assign it to the service account or user`;
    },
  },
  {
    id: 'space-in-scope-value',
    when: ({ condition }) =>
      (condition.path === 'scp' || condition.path === 'scope') &&
      expectedStrings(condition).some((value) => value.includes(' ')),
    text: ({ condition }) =>
      `${condition.path} is split on spaces, so a value with a space can never match: list the scopes as separate values (any one matches) or use one rule per scope`,
  },
  {
    id: 'case-mismatch',
    when: ({ condition }) =>
      condition.found &&
      !condition.holds &&
      sample(condition).some(
        (value) =>
          typeof value === 'string' &&
          expectedStrings(condition).some((wanted) => wanted.toLowerCase() === value.toLowerCase()),
      ),
    text: ({ condition }) => {
      const value = sample(condition).find(
        (actual) =>
          typeof actual === 'string' &&
          expectedStrings(condition).some((wanted) => wanted.toLowerCase() === actual.toLowerCase()),
      );
      return `values compare case-sensitively: the token has ${showValue(value)}, the rule expects ${showAlternatives(condition.expected)}`;
    },
  },
  {
    id: 'type-mismatch',
    when: ({ condition }) =>
      condition.found &&
      !condition.holds &&
      sample(condition).some((value) =>
        condition.expected.some(
          (wanted) => typeof wanted !== typeof value && String(wanted) === String(value),
        ),
      ),
    text: ({ condition }) =>
      `values compare by JSON type: the token has ${showValue(sample(condition))}, the rule expects ${condition.expected
        .map((value) => JSON.stringify(value))
        .join(' or ')}`,
  },
  {
    id: 'object-value',
    when: ({ condition }) =>
      condition.found && (condition.actualType === 'object' || condition.actualType === 'null'),
    text: ({ condition }) =>
      `${condition.path} is ${condition.actualType === 'null' ? 'null' : 'an object'} in the token, which matches nothing: name a value inside it with a dotted path (e.g. ${condition.path}.roles)`,
  },
  {
    id: 'claim-absent',
    fallback: true,
    when: ({ condition }) => !condition.found,
    text: ({ condition }) =>
      condition.path.includes('.')
        ? `the token has no ${condition.path} (looked up as a top-level name, then as a nested path)`
        : `the token has no ${condition.path} claim: the IdP must be configured to emit it for this client`,
  },
  {
    id: 'claim-other-value',
    fallback: true,
    when: ({ condition }) => condition.found && !condition.holds,
    text: ({ condition }) =>
      `the token has ${condition.path} = ${showValue(sample(condition))}, the rule expects ${showAlternatives(condition.expected)}`,
  },
];

function applyTable<C>(table: readonly HintRule<C>[], ctx: C): Hint[] {
  const matching = table.filter((rule) => {
    try {
      return rule.when(ctx);
    } catch {
      return false;
    }
  });
  const specific = matching.filter((rule) => !rule.fallback);
  const chosen = specific.length > 0 ? specific : matching.slice(0, 1);
  return chosen.map((rule) => ({ id: rule.id, text: rule.text(ctx) }));
}

/** Hints for a denial's reason (claims-based hints only when `ctx.claims` is set). */
export function decisionHints(ctx: DecisionHintContext): Hint[] {
  return applyTable(DECISION_HINTS, ctx).flatMap((hint) =>
    hint.id === 'issuer' ? ISSUER_HINTS(ctx) : [hint],
  );
}

/** Hints for one failed rule condition. */
export function conditionHints(ctx: ConditionHintContext): Hint[] {
  if (ctx.condition.holds) return [];
  return applyTable(CONDITION_HINTS, ctx);
}

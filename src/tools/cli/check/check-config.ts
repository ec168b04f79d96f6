/**
 * The `check` use case: validates a configuration as the Lambda does, then fetches each issuer's
 * discovery document and JWKS through the key store's own code, reporting usable keys, issuer
 * mismatches, unreachable endpoints, TLS failures by cause and never-matching rules, as a
 * CheckReport for the text and `--json` renderers.
 */

import { contentVersion } from '../../../core/config/content-version.ts';
import {
  type AuthorizerConfig,
  type ConfigIssue,
  type IssuerConfig,
  parseConfigText,
} from '../../../core/config/schema.ts';
import { certificatesOutsideValidity, describeCaCertificate } from '../../../core/keys/ca-bundle.ts';
import { discoveryUrl, parseDiscovery } from '../../../core/keys/discovery.ts';
import { fetchJson, type FetchOutcome } from '../../../core/keys/fetch-json.ts';
import { type JwksKey, keyFitsAlg, parseJwks } from '../../../core/keys/parse-jwks.ts';
import { sanitize } from '../../../core/observability/sanitize.ts';
import { type Finding, lintIssuer, lintRules, type Severity } from './lint-config.ts';
import { issuerMismatchHints } from '../shared/hints.ts';
import type { CliCaBundle } from '../shared/read-ca-bundle.ts';
import { showValue } from '../shared/show-value.ts';
import { tlsHint, tlsHintInput } from '../shared/tls-hints.ts';
import { SANDBOX_ISSUER_PLACEHOLDER } from '../../sandbox/prepare-sandbox-config.ts';

export type { Finding, Severity };

export interface EndpointResult {
  kind: 'discovery' | 'jwks';
  url: string;
  ok: boolean;
  ms: number;
  detail: string;
  /** With a TLS failure: its cause (unknown_ca, expired …) and Node's error code. */
  tlsCause?: string;
  tlsCode?: string;
}

export interface IssuerReport {
  issuer: string;
  endpoints: EndpointResult[];
  keys: { kid: string; kty: string; alg?: string; crv?: string }[];
  findings: Finding[];
}

export interface CheckReport {
  config: {
    file: string;
    version: string;
    ok: boolean;
    issues: ConfigIssue[];
    issuers: number;
    rules: number;
  };
  /** The CA bundle trusted beside the default CAs, with its certificates' subjects. */
  caBundle?: { file: string; certificates: string[]; findings: Finding[] };
  issuers: IssuerReport[];
  rules: Finding[];
  problems: number;
  warnings: number;
}

export interface CheckDeps {
  fetch?: typeof globalThis.fetch;
  /** Per request; default 5 000 ms (the Lambda allows itself far less: see the timings). */
  timeoutMs?: number;
  /** Role ARNs the deployment allows (AUTHORIZER_ALLOWED_ROLE_ARNS); unset: not checked. */
  allowedRoles?: ReadonlySet<string>;
  /** CAs trusted for the fetches beside the default ones (--ca-bundle). */
  caBundle?: CliCaBundle;
  /** For the CA bundle's validity; default Date.now. */
  nowMs?: () => number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

export async function checkConfig(
  configFile: string,
  configText: string,
  deps: CheckDeps = {},
): Promise<CheckReport> {
  const version = contentVersion(configText);
  const parsed = parseConfigText(configText);
  if (!parsed.ok) {
    return {
      config: { file: configFile, version, ok: false, issues: parsed.issues, issuers: 0, rules: 0 },
      issuers: [],
      rules: [],
      problems: parsed.issues.length,
      warnings: 0,
    };
  }
  const { config } = parsed;
  const caBundle = deps.caBundle === undefined ? undefined : describeBundle(deps.caBundle, deps);
  const issuers = await Promise.all(
    config.issuers.map((issuer, index) => checkIssuer(issuer, deps, config, index)),
  );
  const rules = lintRules(config, deps.allowedRoles);
  const all = [...(caBundle?.findings ?? []), ...issuers.flatMap((issuer) => issuer.findings), ...rules];
  return {
    config: {
      file: configFile,
      version,
      ok: true,
      issues: [],
      issuers: config.issuers.length,
      rules: config.rules.length,
    },
    ...(caBundle === undefined ? {} : { caBundle }),
    issuers,
    rules,
    problems: all.filter((finding) => finding.severity === 'problem').length,
    warnings: all.filter((finding) => finding.severity === 'warning').length,
  };
}

/** The bundle's subjects, and a warning per certificate outside its validity (it anchors nothing then). */
function describeBundle(caBundle: CliCaBundle, deps: CheckDeps): NonNullable<CheckReport['caBundle']> {
  const now = (deps.nowMs ?? Date.now)();
  const certificates = caBundle.bundle.certificates;
  const findings = certificatesOutsideValidity(caBundle.bundle, now).map((certificate): Finding => ({
    severity: 'warning',
    subject: 'ca bundle',
    message: `${describeCaCertificate(certificate, certificates.indexOf(certificate))} is ${
      certificate.notAfterMs < now ? 'expired' : 'not valid yet'
    } (valid ${new Date(certificate.notBeforeMs).toISOString().slice(0, 10)} to ${new Date(certificate.notAfterMs).toISOString().slice(0, 10)})`,
    hints: ['a CA outside its validity verifies no certificate: replace it in the bundle'],
  }));
  return { file: caBundle.file, certificates: certificates.map(describeCaCertificate), findings };
}

/** sandbox/config.json's issuer: the sandbox swaps in its embedded IdP at start; nothing listens there. */
const PLACEHOLDER_HINT =
  `${SANDBOX_ISSUER_PLACEHOLDER} is the sandbox's placeholder, not an IdP: the sandbox replaces it with its ` +
  "embedded IdP at start, so run `npm start` to try this config; in your own config, name your IdP's issuer";

function fetchFailureHints(
  outcome: Extract<FetchOutcome, { ok: false }>,
  kind: 'discovery' | 'jwks',
  caBundleFile: string | undefined,
  issuer: IssuerConfig,
): string[] {
  // Nothing is meant to answer there: the network advice would only mislead.
  if (issuer.issuer === SANDBOX_ISSUER_PLACEHOLDER) return [PLACEHOLDER_HINT];
  return causeHints(outcome, kind, caBundleFile);
}

function causeHints(
  outcome: Extract<FetchOutcome, { ok: false }>,
  kind: 'discovery' | 'jwks',
  caBundleFile: string | undefined,
): string[] {
  switch (outcome.cause) {
    case 'tls':
      return outcome.tlsCause === undefined
        ? []
        : [tlsHint(tlsHintInput(outcome.tlsCause, outcome.tlsCode, caBundleFile))];
    case 'network':
      return [
        /ENOTFOUND|EAI_AGAIN/.test(outcome.detail)
          ? 'the host name does not resolve: check the URL (and that the Lambda can resolve it)'
          : 'nothing answers there: check the URL and port, and that the Lambda can reach it (a function in a VPC needs a route: a NAT gateway for an internet IdP, VPN or Direct Connect for one in the hospital network)',
      ];
    case 'timeout':
      return ['the endpoint did not answer in time; the Lambda waits far less (its whole budget is 800 ms)'];
    case 'status':
      return outcome.status === 404 && kind === 'discovery'
        ? [
            'no OIDC discovery document here: is the issuer exact? (Keycloak: https://host/realms/<realm>; Entra v2: https://login.microsoftonline.com/<tenant>/v2.0) — or pin jwksUri',
          ]
        : [`the endpoint answered ${outcome.detail}`];
    case 'redirect':
      return [
        'redirects are never followed (a redirect could hand us another host’s keys): configure the final URL',
      ];
    case 'invalid':
      return ['the body is not JSON: a login page, a proxy or a captive portal answered instead of the IdP'];
    case 'too_large':
      return ['the body is over 128 KiB: not a JWKS or discovery document'];
    default:
      return [];
  }
}

async function timedFetch(url: string, kind: 'discovery' | 'jwks', deps: CheckDeps) {
  const outcome = await fetchJson(url, {
    signal: AbortSignal.timeout(deps.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    ...(deps.caBundle === undefined ? {} : { caBundle: deps.caBundle.bundle }),
  });
  const endpoint: EndpointResult = {
    kind,
    url,
    ok: outcome.ok,
    ms: Math.round(outcome.ms),
    detail: outcome.ok ? 'ok' : outcome.detail,
  };
  if (!outcome.ok && outcome.tlsCause !== undefined) endpoint.tlsCause = outcome.tlsCause;
  if (!outcome.ok && outcome.tlsCode !== undefined) endpoint.tlsCode = outcome.tlsCode;
  return { outcome, endpoint };
}

/** `<url> unreachable: request failed (ECONNREFUSED) after 3 ms`; a TLS failure is not "unreachable". */
function failureMessage(url: string, outcome: Extract<FetchOutcome, { ok: false }>, ms: number): string {
  return outcome.cause === 'tls'
    ? `${url}: ${outcome.detail} after ${ms} ms`
    : `${url} unreachable: ${outcome.detail} after ${ms} ms`;
}

async function checkIssuer(
  issuer: IssuerConfig,
  deps: CheckDeps,
  config: AuthorizerConfig,
  index: number,
): Promise<IssuerReport> {
  const report: IssuerReport = { issuer: issuer.issuer, endpoints: [], keys: [], findings: [] };
  const find = (severity: Severity, subject: string, message: string, hints: string[] = []) =>
    report.findings.push({ severity, subject, message, hints });

  report.findings.push(...lintIssuer(issuer, config, index));

  let jwksUri = issuer.jwksUri;
  if (jwksUri === undefined) {
    const url = discoveryUrl(issuer.issuer);
    const { outcome, endpoint } = await timedFetch(url, 'discovery', deps);
    report.endpoints.push(endpoint);
    if (!outcome.ok) {
      find(
        'problem',
        'discovery',
        failureMessage(url, outcome, endpoint.ms),
        fetchFailureHints(outcome, 'discovery', deps.caBundle?.file, issuer),
      );
      return report;
    }
    const discovered = parseDiscovery(outcome.value, issuer.issuer);
    if (!discovered.ok) {
      if (discovered.cause === 'issuer_mismatch') {
        const published = publishedIssuer(outcome.value);
        const hints =
          published === undefined
            ? []
            : published.includes('{tenantid}')
              ? [
                  'this is a multi-tenant endpoint (common/organizations) whose issuer is a template: configure your tenant’s own issuer and tenantId',
                ]
              : issuerMismatchHints(published, [issuer.issuer], 'the published issuer').map(
                  (hint) => hint.text,
                );
        find(
          'problem',
          'discovery',
          `issuer mismatch: the discovery document publishes ${showValue(published ?? 'no issuer')}, the config says ${showValue(issuer.issuer)} (they must be equal byte for byte, or every token is denied with idp_unavailable)`,
          hints,
        );
        endpoint.ok = false;
        endpoint.detail = 'issuer mismatch';
      } else {
        find('problem', 'discovery', discovered.detail);
      }
      return report;
    }
    jwksUri = discovered.jwksUri;
    find('ok', 'discovery', `${url} in ${endpoint.ms} ms; issuer matches; jwks_uri ${discovered.jwksUri}`);
  }

  const { outcome, endpoint } = await timedFetch(jwksUri, 'jwks', deps);
  report.endpoints.push(endpoint);
  if (!outcome.ok) {
    find(
      'problem',
      'jwks',
      failureMessage(jwksUri, outcome, endpoint.ms),
      fetchFailureHints(outcome, 'jwks', deps.caBundle?.file, issuer),
    );
    return report;
  }
  const jwks = parseJwks(outcome.value);
  if (!jwks.ok) {
    find('problem', 'jwks', `${jwksUri}: ${jwks.detail}`, [
      'every token of this issuer would be denied with idp_unavailable',
    ]);
    return report;
  }
  find('ok', 'jwks', `${jwksUri} in ${endpoint.ms} ms`);
  report.keys = jwks.keys.map(describeKey);
  find(
    'ok',
    'keys',
    `${jwks.keys.length} usable: ${report.keys
      .map(
        (key) =>
          `${showValue(key.kid)} ${key.kty}${key.crv ? ` ${key.crv}` : ''}${key.alg ? ` ${key.alg}` : ''}`,
      )
      .join(', ')}`,
  );
  for (const dropped of jwks.dropped) {
    find(
      'info',
      'keys',
      `ignored ${dropped.kid === undefined ? 'a key' : showValue(sanitize(dropped.kid))}: ${dropped.why}`,
    );
  }
  checkAlgorithms(issuer, jwks.keys, find);
  return report;
}

function publishedIssuer(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  return sanitize((doc as Record<string, unknown>)['issuer'], 256);
}

function describeKey(key: JwksKey): IssuerReport['keys'][number] {
  const out: IssuerReport['keys'][number] = { kid: sanitize(key.kid) ?? '', kty: key.kty };
  if (key.alg !== undefined) out.alg = key.alg;
  if (key.crv !== undefined) out.crv = key.crv;
  return out;
}

function checkAlgorithms(
  issuer: IssuerConfig,
  keys: readonly JwksKey[],
  find: (severity: Severity, subject: string, message: string, hints?: string[]) => void,
): void {
  const served = issuer.algorithms.map((alg) => ({
    alg,
    keys: keys.filter((key) => keyFitsAlg(key, alg)).length,
  }));
  const usable = served.filter((entry) => entry.keys > 0);
  if (usable.length === 0) {
    const kinds = [
      ...new Set(
        keys.map((key) => `${key.kty}${key.crv ? ` ${key.crv}` : ''}${key.alg ? ` ${key.alg}` : ''}`),
      ),
    ];
    find(
      'problem',
      'algorithms',
      `no published key can verify ${showValue(issuer.algorithms)} (keys: ${kinds.join(', ')})`,
      ['set algorithms to what the IdP signs with (RSA keys: RS256; EC P-256: ES256; Ed25519: EdDSA)'],
    );
    return;
  }
  find(
    'ok',
    'algorithms',
    served.map((entry) => `${entry.alg}: ${entry.keys} key${entry.keys === 1 ? '' : 's'}`).join(', '),
  );
  for (const entry of served.filter((candidate) => candidate.keys === 0)) {
    find('warning', 'algorithms', `${entry.alg} is allowed but no published key can verify it`);
  }
}

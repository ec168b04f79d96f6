/**
 * The composition root of `explain`: a static config from the file (already validated), a real
 * key store — live against the IdP, or with `--jwks FILE` served that file through an injected
 * fetch (no network at all) — and the clock from `--now` or the system. Everything else is the
 * same authorize() the Lambda runs.
 */

import { systemClock } from '../../../core/kernel/clock.ts';
import type { AuthorizerConfig, IssuerConfig } from '../../../core/config/schema.ts';
import { discoveryUrl } from '../../../core/keys/discovery.ts';
import { createKeyStore, type KeyFetchEvent } from '../../../core/keys/key-store.ts';
import type { ExplainDeps } from './explain-token.ts';
import type { CliCaBundle } from '../shared/read-ca-bundle.ts';

export interface ExplainDepsInput {
  config: AuthorizerConfig;
  configVersion: string;
  configFile: string;
  /** Verify against this JWKS document instead of fetching keys (a set, as normaliseJwksText returns it). */
  jwks?: { file: string; text: string };
  /** Evaluate at this instant (epoch ms) instead of now. */
  nowMs?: number;
  fetch?: typeof globalThis.fetch;
  /** CAs trusted for live fetches beside the default ones (--ca-bundle). */
  caBundle?: CliCaBundle;
}

/** Stands in for every issuer's jwks_uri when keys come from a file (never fetched). */
const OFFLINE_JWKS_URL = 'https://offline.invalid/jwks.json';

/**
 * A fetch that answers from memory: an issuer's discovery URL gets a document naming the issuer
 * and the offline JWKS URL; any other URL gets the JWKS file. The key store's parsing, key
 * filtering and kid selection all run unchanged.
 */
export function createOfflineFetch(
  jwksText: string,
  issuers: readonly IssuerConfig[],
): typeof globalThis.fetch {
  return (input) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const issuer = issuers.find((candidate) => discoveryUrl(candidate.issuer) === url);
    const body = issuer ? JSON.stringify({ issuer: issuer.issuer, jwks_uri: OFFLINE_JWKS_URL }) : jwksText;
    return Promise.resolve(
      new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
    );
  };
}

/** A bare JWK is accepted as a one-key set; anything else is passed on as is for parseJwks to judge. */
export function normaliseJwksText(text: string): string {
  try {
    const value: unknown = JSON.parse(text);
    if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      'kty' in value &&
      !('keys' in value)
    ) {
      return JSON.stringify({ keys: [value] });
    }
  } catch {
    // Not JSON: the key store reports "body is not JSON" like it would for an IdP.
  }
  return text;
}

export function buildExplainDeps(input: ExplainDepsInput): ExplainDeps {
  const fetches: KeyFetchEvent[] = [];
  const offline = input.jwks;
  const fetchImpl = offline ? createOfflineFetch(offline.text, input.config.issuers) : input.fetch;
  const caBundle = offline ? undefined : input.caBundle;
  const keys = createKeyStore({
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
    ...(caBundle === undefined ? {} : { caBundle: caBundle.bundle }),
    // explain is a one-shot process: no cooldown games, a patient fetch.
    fetchTimeoutMs: 5_000,
    onFetch: (event) => fetches.push(event),
  });
  const nowMs = input.nowMs;
  return {
    config: input.config,
    configVersion: input.configVersion,
    configFile: input.configFile,
    keys,
    keySource: (issuer) => {
      if (offline) return `${offline.file} (offline, --jwks)`;
      return issuer.jwksUri ?? keys.snapshot(issuer).jwksUri ?? `discovery at ${discoveryUrl(issuer.issuer)}`;
    },
    fetches: () => (offline ? [] : fetches),
    ...(caBundle === undefined ? {} : { caBundleFile: caBundle.file }),
    now: nowMs === undefined ? systemClock : () => nowMs,
    nowSource: nowMs === undefined ? 'system clock' : '--now',
  };
}

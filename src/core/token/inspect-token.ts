/**
 * The pre-authentication gate for a bearer token: size cap, strict compact-JWS grammar, strict header
 * and payload parses, forbidden header parameters, alg and kid shape, in the check order of
 * docs/reason-codes.md. Everything it returns is UNVERIFIED; with no I/O and no crypto, hostile input
 * is rejected cheaply. Row numbers are cases of test/security/catalogue.test.ts.
 */

import type { StepName } from '../decision/decision.ts';
import type { Reason } from '../decision/reason-codes.ts';
import {
  ASYMMETRIC_ALGORITHM_SET,
  ASYMMETRIC_ALGORITHMS,
  isKidShape,
  MAX_KID_LENGTH,
  MAX_TOKEN_LENGTH,
} from '../kernel/limits.ts';
import type { Err, Refusal, Result } from '../kernel/result.ts';
import { sanitize } from '../observability/sanitize.ts';
import { jsonTypeName } from './json-type-name.ts';
import { parseStrictJson, type StrictJsonError } from './strict-json.ts';

/** Header facts that later checks need; `typ` is present only when the header has it. */
export interface JoseHeaderFacts {
  alg: string;
  kid: string;
  typ?: unknown;
}

export interface InspectedToken {
  header: JoseHeaderFacts;
  /** UNVERIFIED claims: never log, spread or merge them (row 45). */
  payload: Record<string, unknown>;
}

/**
 * On failure, `alg` / `kid` are set only when they passed their own checks (safe to log). `seen`
 * holds what a parsed header carried, sanitized, for `explain` to show; never for a log line.
 */
export type InspectResult = Result<{ token: InspectedToken }, InspectRefusal>;

/** The pipeline steps inspectToken decides: the compact form, the JOSE header, the payload's shape. */
export type InspectStep = Extract<StepName, 'format' | 'header' | 'claims'>;

/** Each refusal names its step where it is made, never derived from the reason's spelling. */
export interface InspectRefusal extends Refusal<Reason> {
  step: InspectStep;
  alg?: string;
  kid?: string;
  seen?: SeenHeader;
}

/** A refused header's alg, kid and typ as printable ASCII, length-capped (display only). */
export interface SeenHeader {
  alg?: string;
  kid?: string;
  typ?: string;
}

/** RFC 7515 §7.1 compact serialization, ASCII base64url only: no padding, whitespace or prefix (rows 3-13). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const HEADER_LIMITS = { maxDepth: 4, maxMembers: 64 };
const PAYLOAD_LIMITS = { maxDepth: 16, maxMembers: 10_000 };

/**
 * Header parameters we never honour. Key material or URLs named by the token (RFC 8725 §3.10; rows 27-29),
 * `crit`/`b64` extensions (RFC 7515 §4.1.11, RFC 7797; rows 35-36), nested tokens (`cty`, row 37) and
 * JWE-only parameters (RFC 7516/7518; row 38).
 */
const FORBIDDEN_HEADER_PARAMS = [
  'jku',
  'x5u',
  'jwk',
  'x5c',
  'crit',
  'b64',
  'cty',
  'enc',
  'zip',
  'p2c',
  'p2s',
  'epk',
  'apu',
  'apv',
  'iv',
  'tag',
] as const;

/** The rule each forbidden parameter breaks, for the refusal's detail. */
const FORBIDDEN_WHY: Readonly<Record<(typeof FORBIDDEN_HEADER_PARAMS)[number], string>> = {
  jku: 'keys are never fetched from a URL the token names (RFC 8725 §3.10)',
  x5u: 'keys are never fetched from a URL the token names (RFC 8725 §3.10)',
  jwk: 'a key inside the token is never trusted (RFC 8725 §3.10)',
  x5c: 'a certificate inside the token is never trusted (RFC 8725 §3.10)',
  crit: 'no header extension is supported, so none can be critical (RFC 7515 §4.1.11)',
  b64: 'unencoded payloads are not supported (RFC 7797)',
  cty: 'nested tokens are not accepted',
  enc: 'encrypted tokens (JWE) are not accepted',
  zip: 'encrypted tokens (JWE) are not accepted',
  p2c: 'encrypted tokens (JWE) are not accepted',
  p2s: 'encrypted tokens (JWE) are not accepted',
  epk: 'encrypted tokens (JWE) are not accepted',
  apu: 'encrypted tokens (JWE) are not accepted',
  apv: 'encrypted tokens (JWE) are not accepted',
  iv: 'encrypted tokens (JWE) are not accepted',
  tag: 'encrypted tokens (JWE) are not accepted',
};

/**
 * The rule a refused alg breaks. The value itself stays out (details never carry token bytes);
 * `explain` shows it next to this text from `seen`.
 */
function algRefusal(alg: string): string {
  const sameLetters = ASYMMETRIC_ALGORITHMS.find((known) => known.toLowerCase() === alg.toLowerCase());
  if (sameLetters !== undefined) {
    return `alg is refused: algorithm names are case-sensitive, and it differs from ${sameLetters} only in case`;
  }
  const why = /^none$/i.test(alg)
    ? 'an unsigned token is never accepted'
    : /^HS/i.test(alg)
      ? 'a shared-secret (HMAC) algorithm is never accepted, the IdP must sign with its private key'
      : 'it is not a JWS algorithm this authorizer verifies';
  return `alg is refused: ${why}; accepted are ${ASYMMETRIC_ALGORITHMS.join(', ')} (RFC 8725 §3.1)`;
}

/** What a parsed header carried, for display only. */
function seenHeader(fields: Record<string, unknown>): SeenHeader {
  const seen: SeenHeader = {};
  const alg = sanitize(fields['alg'], 16);
  if (alg !== undefined) seen.alg = alg;
  const kid = sanitize(fields['kid']);
  if (kid !== undefined) seen.kid = kid;
  const typ = sanitize(fields['typ'], 32);
  if (typ !== undefined) seen.typ = typ;
  return seen;
}

/** Inspects a raw bearer token without verifying it. Never throws. */
export function inspectToken(token: unknown): InspectResult {
  try {
    return inspect(token);
  } catch {
    // Not reachable with JSON-parsed input; the catch-all keeps the gate fail-closed.
    return fail('header', 'internal_error', 'unexpected error while inspecting the token');
  }
}

function inspect(token: unknown): InspectResult {
  if (typeof token !== 'string' || token.length === 0) {
    return fail('format', 'token_missing', 'the token is absent, empty or not a string');
  }
  // Before any split, regex or decode: millions of dots or a multi-MB token cost nothing (rows 14-15).
  if (token.length > MAX_TOKEN_LENGTH) {
    return fail(
      'format',
      'token_too_large',
      `the token is ${token.length} characters, over the ${MAX_TOKEN_LENGTH} cap`,
    );
  }
  if (!COMPACT_JWS.test(token)) {
    return fail('format', 'token_malformed', 'not three non-empty base64url segments separated by dots');
  }
  const segments = token.split('.');
  for (const [index, segment] of segments.entries()) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) return fail('format', 'token_malformed', `segment ${index + 1} ${problem}`);
  }
  const [headerSegment = '', payloadSegment = ''] = segments;

  const header = parseStrictJson(Buffer.from(headerSegment, 'base64url'), HEADER_LIMITS);
  if (!header.ok) {
    // Size and nesting are a DoS concern (row 17): too large, at the size cap's step; the rest is a bad
    // header (rows 16, 18).
    if (header.error === 'too_deep')
      return fail('format', 'token_too_large', 'the header nests deeper than 4 levels');
    if (header.error === 'too_many_members')
      return fail('format', 'token_too_large', 'the header has over 64 members');
    return fail('header', 'header_invalid', `the header is not strict JSON (${describe(header.error)})`);
  }
  if (!isPlainObject(header.value)) {
    return fail('header', 'header_invalid', `the header is ${jsonTypeName(header.value)}, not a JSON object`);
  }
  const fields = header.value;

  for (const name of FORBIDDEN_HEADER_PARAMS) {
    if (Object.hasOwn(fields, name)) {
      return refuse(fields, 'header_forbidden_param', `the header carries ${name}: ${FORBIDDEN_WHY[name]}`);
    }
  }

  // Asymmetric only, exact case: `none` in any casing and HS* never pass (RFC 8725 §3.1; rows 19-21).
  if (!Object.hasOwn(fields, 'alg')) {
    return refuse(
      fields,
      'alg_not_allowed',
      'the header has no alg: a JWS must name its algorithm (RFC 7515 §4.1.1)',
    );
  }
  const alg = fields['alg'];
  if (typeof alg !== 'string') {
    return refuse(
      fields,
      'alg_not_allowed',
      `alg is ${jsonTypeName(alg)}, not a string naming a JWS algorithm`,
    );
  }
  if (!ASYMMETRIC_ALGORITHM_SET.has(alg)) return refuse(fields, 'alg_not_allowed', algRefusal(alg));

  // The kid is only ever used for an exact Map lookup; its shape is bounded so it is safe to log (row 31).
  if (!Object.hasOwn(fields, 'kid')) {
    return {
      ...refuse(
        fields,
        'kid_missing',
        'the header has no kid: keys are looked up by kid, never tried in turn',
      ),
      alg,
    };
  }
  const kid = fields['kid'];
  if (typeof kid !== 'string')
    return { ...refuse(fields, 'kid_invalid', `kid is ${jsonTypeName(kid)}, not a string`), alg };
  const kidProblem = kidShapeProblem(kid);
  if (kidProblem !== undefined) return { ...refuse(fields, 'kid_invalid', kidProblem), alg };

  const payload = parseStrictJson(Buffer.from(payloadSegment, 'base64url'), PAYLOAD_LIMITS);
  if (!payload.ok) {
    return {
      ...fail('claims', 'claims_invalid', `the payload is not strict JSON (${describe(payload.error)})`),
      alg,
      kid,
    };
  }
  if (!isPlainObject(payload.value)) {
    return {
      ...fail('claims', 'claims_invalid', `the payload is ${jsonTypeName(payload.value)}, not a JSON object`),
      alg,
      kid,
    };
  }

  const facts: JoseHeaderFacts = { alg, kid };
  if (Object.hasOwn(fields, 'typ')) facts.typ = fields['typ'];
  return { ok: true, token: { header: facts, payload: payload.value } };
}

/**
 * Rejects encodings jose would silently accept (docs/adr/0001-jose-verifies-every-signature.md): a
 * length that no byte string encodes to, and non-canonical last characters whose unused bits are
 * not zero (row 8).
 */
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The segment is already known to be base64url characters only (COMPACT_JWS). It decodes to exactly
 * one byte string and re-encodes to itself iff its length is possible and the bits its last
 * character carries beyond the final byte are zero (RFC 4648 §3.5): checked in O(1), no decode.
 */
function segmentProblem(segment: string): string | undefined {
  const remainder = segment.length % 4;
  if (remainder === 1) return 'has an impossible base64url length';
  if (remainder !== 0) {
    const last = BASE64URL_ALPHABET.indexOf(segment.charAt(segment.length - 1));
    // 2 characters carry 12 bits for 1 byte (4 spare), 3 carry 18 bits for 2 bytes (2 spare).
    if ((last & (remainder === 2 ? 0x0f : 0x03)) !== 0) return 'is not canonical base64url';
  }
  return undefined;
}

function kidShapeProblem(kid: string): string | undefined {
  if (kid.length === 0) return 'kid is empty';
  if (kid.length > MAX_KID_LENGTH) return `kid is ${kid.length} characters, over the ${MAX_KID_LENGTH} cap`;
  // Length is in range here, so the shared rule fails only on a character outside printable ASCII.
  if (!isKidShape(kid)) return 'kid has characters outside printable ASCII';
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(error: StrictJsonError): string {
  switch (error) {
    case 'invalid_utf8':
      return 'invalid UTF-8';
    case 'invalid_json':
      return 'invalid JSON';
    case 'duplicate_key':
      return 'duplicate member names';
    case 'too_deep':
      return 'nested too deeply';
    case 'too_many_members':
      return 'too many members';
    default: {
      const unreachable: never = error;
      return unreachable;
    }
  }
}

function fail(step: InspectStep, reason: Reason, detail: string): Err<InspectRefusal> {
  return { ok: false, step, reason, detail };
}

/** A header refusal, with what the header carried (built only here, not for every token). */
function refuse(fields: Record<string, unknown>, reason: Reason, detail: string): Err<InspectRefusal> {
  return { ...fail('header', reason, detail), seen: seenHeader(fields) };
}

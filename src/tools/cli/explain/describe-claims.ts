/**
 * The claim checks of a verified token, spelled out for `explain`: time claims against now, token
 * type, tenant, audience and client. It describes, never decides: each line's status comes from the
 * Decision authorize() returned (`markClaimLines`), so it cannot disagree with the pipeline. Call
 * it only after the signature verified.
 */

import type { AuthorizerConfig, IssuerConfig } from '../../../core/config/schema.ts';
import type { Reason } from '../../../core/decision/reason-codes.ts';
import { idTokenMarker } from '../../../core/token/validate-claims.ts';
import { formatDuration, isoSeconds, relativeTime } from '../shared/format-duration.ts';
import { showValue } from '../shared/show-value.ts';

/** The sub-checks of the pipeline's claims step, in the order validateClaims runs them. */
export const CLAIM_CHECKS = ['claims', 'exp', 'nbf', 'iat', 'type', 'tenant', 'audience', 'client'] as const;
export type ClaimCheck = (typeof CLAIM_CHECKS)[number];

export interface ClaimLine {
  check: ClaimCheck;
  /** ok / fail from the Decision; info when the check is not configured; skip when not reached. */
  status: 'ok' | 'fail' | 'info' | 'skip';
  text: string;
}

function own(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(claims, name) ? claims[name] : undefined;
}

function timeText(value: unknown, nowMs: number): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return `${isoSeconds(value)} (${relativeTime(value * 1000, nowMs)})`;
}

/** Describes every claim check; statuses are provisional until markClaimLines applies the Decision. */
export function describeClaims(
  claims: Readonly<Record<string, unknown>>,
  issuer: IssuerConfig,
  config: AuthorizerConfig,
  nowMs: number,
): ClaimLine[] {
  const lines: ClaimLine[] = [];
  const tol = issuer.clockToleranceSeconds;
  const windowText = formatDuration(config.maxTokenAgeSeconds * 1000);

  lines.push({ check: 'claims', status: 'ok', text: 'claim types valid; exp, iat and sub present' });

  const exp = own(claims, 'exp');
  const expText = timeText(exp, nowMs);
  lines.push({
    check: 'exp',
    status: 'ok',
    text:
      expText === undefined
        ? `exp is ${showValue(exp)}`
        : `${expText}${typeof exp === 'number' && exp * 1000 <= nowMs ? ' — expired' : ''}`,
  });

  const nbf = own(claims, 'nbf');
  if (nbf !== undefined) {
    lines.push({ check: 'nbf', status: 'ok', text: timeText(nbf, nowMs) ?? `nbf is ${showValue(nbf)}` });
  }

  const iat = own(claims, 'iat');
  if (typeof iat === 'number' && Number.isFinite(iat)) {
    const age = nowMs - iat * 1000;
    const windowEnds = iat * 1000 + config.maxTokenAgeSeconds * 1000;
    const where =
      age < 0
        ? 'in the future'
        : windowEnds > nowMs
          ? `inside the ${windowText} iat window, which ends ${relativeTime(windowEnds, nowMs)}`
          : `outside the ${windowText} iat window, which ended ${relativeTime(windowEnds, nowMs)}`;
    lines.push({
      check: 'iat',
      status: 'ok',
      text: `${isoSeconds(iat)} (issued ${relativeTime(iat * 1000, nowMs)}), ${where}; clock tolerance ${tol} s`,
    });
  } else {
    lines.push({ check: 'iat', status: 'ok', text: `iat is ${showValue(iat)}` });
  }

  lines.push(typeLine(claims, issuer));

  const tid = own(claims, 'tid');
  lines.push(
    issuer.tenantId === undefined
      ? {
          check: 'tenant',
          status: 'info',
          text: `not pinned (no tenantId)${tid === undefined ? '' : `; tid ${showValue(tid)}`}`,
        }
      : {
          check: 'tenant',
          status: 'ok',
          text: `tid ${showValue(tid)}, tenantId ${showValue(issuer.tenantId)}`,
        },
  );

  const aud = own(claims, 'aud');
  lines.push(
    issuer.audience === undefined
      ? {
          check: 'audience',
          status: 'info',
          text: `not checked (no audience configured); aud ${showValue(aud)}`,
        }
      : {
          check: 'audience',
          status: 'ok',
          text: `aud ${showValue(aud)}, configured ${showValue(issuer.audience)}`,
        },
  );

  const clientClaim = (['client_id', 'azp', 'appid'] as const).find(
    (name) => own(claims, name) !== undefined,
  );
  const clientText =
    clientClaim === undefined
      ? 'no client_id, azp or appid'
      : `${clientClaim} ${showValue(own(claims, clientClaim))}`;
  lines.push(
    issuer.clientIds === undefined
      ? { check: 'client', status: 'info', text: `not restricted (no clientIds); ${clientText}` }
      : { check: 'client', status: 'ok', text: `${clientText}, clientIds ${showValue(issuer.clientIds)}` },
  );
  return lines;
}

/** The ID-token check (validateClaims step 6): its markers, or the issuer's acceptIdTokens. */
function typeLine(claims: Readonly<Record<string, unknown>>, issuer: IssuerConfig): ClaimLine {
  const marker = idTokenMarker(claims);
  if (issuer.acceptIdTokens === true) {
    return {
      check: 'type',
      status: 'info',
      text: `ID tokens accepted (acceptIdTokens)${marker === undefined ? '' : `; ${marker}`}`,
    };
  }
  // Only a Keycloak access token (typ Bearer or DPoP) passes with a nonce; say why.
  const keycloakNonce = marker === undefined && Object.hasOwn(claims, 'nonce');
  return {
    check: 'type',
    status: 'ok',
    text: keycloakNonce
      ? `access token (typ ${showValue(own(claims, 'typ'))}; Keycloak copies the nonce into access tokens)`
      : 'access token (no typ ID, token_use id, at_hash, c_hash, s_hash or nonce)',
  };
}

/** Which claim check a claims-step reason belongs to (the detail tells nbf from iat, exp from iat). */
export function claimCheckFor(reason: Reason, detail: string): ClaimCheck {
  switch (reason) {
    case 'token_expired':
      return 'exp';
    case 'token_not_yet_valid':
      return detail.startsWith('nbf') ? 'nbf' : 'iat';
    case 'token_lifetime_exceeded':
      return detail.startsWith('exp') ? 'exp' : 'iat';
    case 'token_type_invalid':
      return 'type';
    case 'tenant_not_allowed':
      return 'tenant';
    case 'audience_invalid':
      return 'audience';
    case 'client_not_allowed':
      return 'client';
    default:
      return 'claims';
  }
}

/**
 * Applies the Decision: with the claims step passed, every configured check is ok; with it failed
 * at `failed`, earlier checks are ok, that one fails (with the pipeline's own detail), later ones
 * were not reached.
 */
export function markClaimLines(
  lines: readonly ClaimLine[],
  failed?: { check: ClaimCheck; detail: string },
): ClaimLine[] {
  if (failed === undefined) return lines.map((line) => ({ ...line }));
  const failedAt = CLAIM_CHECKS.indexOf(failed.check);
  const marked = lines.map((line): ClaimLine => {
    const at = CLAIM_CHECKS.indexOf(line.check);
    if (at < failedAt) return { ...line };
    if (at === failedAt) {
      const text = line.check === 'claims' ? failed.detail : `${failed.detail} — ${line.text}`;
      return { ...line, status: 'fail', text };
    }
    return { ...line, status: line.status === 'info' ? 'info' : 'skip' };
  });
  if (!marked.some((line) => line.check === failed.check)) {
    // e.g. a failing nbf check always has an nbf line; this is only a safety net.
    const before = marked.findIndex((line) => CLAIM_CHECKS.indexOf(line.check) > failedAt);
    const line: ClaimLine = { check: failed.check, status: 'fail', text: failed.detail };
    marked.splice(before === -1 ? marked.length : before, 0, line);
  }
  return marked;
}

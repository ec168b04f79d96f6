/**
 * The AWS HealthImaging Lambda-authorizer wire contract: the event AHI sends, the answer it
 * expects, and the DICOMweb operation table. Sources: AHI developer guide
 * dicomweb-oidc-lambda.html, dicomweb-oidc-how.html and the AHI API reference (IAM action names).
 */

import { isTokenValidFor, type Reason } from '../decision/reason-codes.ts';
import type { Refusal, Result } from '../kernel/result.ts';

/** `operation` is the IAM action name `medical-imaging:<operation>`. There is no DICOMweb delete. */
export const READ_OPERATIONS = [
  'SearchDICOMStudies',
  'SearchDICOMSeries',
  'SearchDICOMInstances',
  'GetDICOMSeriesMetadata',
  'GetDICOMInstance',
  'GetDICOMInstanceMetadata',
  'GetDICOMInstanceFrames',
  'GetDICOMBulkdata',
] as const;

export const WRITE_OPERATIONS = ['StoreDICOM', 'StoreDICOMStudy'] as const;

export const KNOWN_OPERATIONS: readonly string[] = [...READ_OPERATIONS, ...WRITE_OPERATIONS];

export type OperationClass = 'read' | 'write';

export function operationClass(operation: string): OperationClass | undefined {
  if ((READ_OPERATIONS as readonly string[]).includes(operation)) return 'read';
  if ((WRITE_OPERATIONS as readonly string[]).includes(operation)) return 'write';
  return undefined;
}

export function isKnownOperation(operation: string): boolean {
  return operationClass(operation) !== undefined;
}

/** AHI datastore ids are 32 characters of [0-9a-z]. */
export const DATASTORE_ID_PATTERN = /^[0-9a-z]{32}$/;

/** The documented event: only these three fields. */
export interface AuthInput {
  datastoreId: string;
  operation: string;
  bearerToken: string;
}

/** The answer AHI expects. `roleArn: ""` is an explicit deny. */
export interface AuthResult {
  isTokenValid: boolean;
  roleArn: string;
}

export type ParsedEvent = Result<
  { request: AuthInput },
  Refusal<'malformed_request' | 'token_missing'> & {
    /** Shape-valid fields, for the audit line even when the event is rejected. */
    datastoreId?: string;
    operation?: string;
  }
>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses the untrusted event. The token is never trimmed, stripped of a `Bearer ` prefix or
 * otherwise normalised: the strict grammar decides later (rows 3-5 of
 * test/security/catalogue.test.ts).
 */
export function parseEvent(event: unknown): ParsedEvent {
  if (!isRecord(event))
    return { ok: false, reason: 'malformed_request', detail: 'event is not a JSON object' };
  const { datastoreId, operation, bearerToken } = event;
  if (typeof datastoreId !== 'string' || !DATASTORE_ID_PATTERN.test(datastoreId)) {
    return { ok: false, reason: 'malformed_request', detail: 'datastoreId is not 32 characters of [0-9a-z]' };
  }
  if (typeof operation !== 'string' || operation.length === 0 || operation.length > 128) {
    return {
      ok: false,
      reason: 'malformed_request',
      detail: 'operation is not a non-empty string',
      datastoreId,
    };
  }
  if (typeof bearerToken !== 'string' || bearerToken.length === 0) {
    return {
      ok: false,
      reason: 'token_missing',
      detail: 'bearerToken is absent, empty or not a string',
      datastoreId,
      operation,
    };
  }
  return { ok: true, request: { datastoreId, operation, bearerToken } };
}

export const DENY_INVALID: AuthResult = Object.freeze({ isTokenValid: false, roleArn: '' });

/** The only place a reason becomes a wire answer. */
export function toAuthResult(reason: Reason, roleArn: string | undefined): AuthResult {
  if (reason === 'allowed' && roleArn) return { isTokenValid: true, roleArn };
  return { isTokenValid: reason !== 'allowed' && isTokenValidFor(reason), roleArn: '' };
}

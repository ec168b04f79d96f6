/**
 * What a DICOMweb client sees for an authorizer answer, per the HealthImaging contract
 * (https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-lambda.html):
 * `isTokenValid:false` → 403 "Invalid or Expired Token"; an empty role → 403 "Access Denied"; a
 * role → the request proceeds; anything else → 424. Shared by `explain` and the sandbox's emulator.
 */

export interface HealthImagingOutcome {
  status: 200 | 403 | 424;
  message: string;
  /** The role HealthImaging assumes, when allowed. */
  roleArn?: string;
}

export const INVALID_TOKEN_MESSAGE = 'Invalid or Expired Token';
export const ACCESS_DENIED_MESSAGE = 'Access Denied';

/** Maps an untrusted authorizer answer the way HealthImaging does. */
export function healthImagingOutcome(answer: unknown): HealthImagingOutcome {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    return { status: 424, message: 'the authorizer answer is not a JSON object' };
  }
  const { isTokenValid, roleArn } = answer as Record<string, unknown>;
  if (typeof isTokenValid !== 'boolean' || typeof roleArn !== 'string') {
    return {
      status: 424,
      message: 'the authorizer answer lacks a boolean isTokenValid and a string roleArn',
    };
  }
  if (!isTokenValid) return { status: 403, message: INVALID_TOKEN_MESSAGE };
  if (roleArn === '') return { status: 403, message: ACCESS_DENIED_MESSAGE };
  return { status: 200, message: `HealthImaging assumes ${roleArn}`, roleArn };
}

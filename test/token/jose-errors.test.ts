import { errors } from 'jose';
import { describe, expect, it } from 'vitest';
import { reasonForJoseError } from '../../src/token/jose-errors.ts';

describe('reasonForJoseError', () => {
  it.each([
    [
      new errors.JWSSignatureVerificationFailed(),
      'signature_invalid',
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    ],
    [new errors.JWSInvalid('Invalid Compact JWS'), 'token_malformed', 'ERR_JWS_INVALID'],
    [new errors.JOSEAlgNotAllowed('alg not allowed'), 'alg_not_allowed', 'ERR_JOSE_ALG_NOT_ALLOWED'],
    [new errors.JOSENotSupported('not supported'), 'alg_not_allowed', 'ERR_JOSE_NOT_SUPPORTED'],
    [new errors.JWKSNoMatchingKey(), 'internal_error', 'ERR_JWKS_NO_MATCHING_KEY'],
    [new errors.JWTInvalid('bad'), 'internal_error', 'ERR_JWT_INVALID'],
  ])('maps %s to %s with its code as the detail', (error, reason, detail) => {
    // Act
    const result = reasonForJoseError(error);

    // Assert
    expect(result).toEqual({ reason, detail });
  });

  it('keeps the payload of a jose claim error out of the detail (SECURITY.md finding 3)', () => {
    // Arrange
    const payload = { email: 'patient@example.org', name: 'Jane Doe', exp: 1 };
    const error = new errors.JWTExpired('"exp" claim timestamp check failed', payload, 'exp', 'check_failed');

    // Act
    const result = reasonForJoseError(error);

    // Assert
    expect(result).toEqual({ reason: 'internal_error', detail: 'ERR_JWT_EXPIRED' });
    expect(JSON.stringify(result)).not.toMatch(/patient|Jane/);
  });

  it('does not trust a JOSEError code that is not a fixed ERR_ identifier', () => {
    // Arrange
    const error = new errors.JWSInvalid('bad');
    (error as { code: string }).code = 'ERR_JWS_INVALID eyJhbGciOiJSUzI1NiJ9';

    // Act
    const result = reasonForJoseError(error);

    // Assert
    expect(result).toEqual({ reason: 'internal_error', detail: 'JOSEError' });
  });

  it.each([
    [
      'a TypeError (short RSA key)',
      new TypeError('RS256 requires key modulusLength to be 2048 bits'),
      'TypeError',
    ],
    ['a RangeError (deep JSON)', new RangeError('Maximum call stack size exceeded'), 'RangeError'],
    ['a SyntaxError', new SyntaxError('Unexpected token e in JSON at position 0: eyJ'), 'SyntaxError'],
    ['a plain Error', new Error('token eyJhbGciOi leaked'), 'Error'],
    ['a custom Error subclass', new (class LeakyError extends Error {})('x'), 'Error'],
  ])('maps %s to internal_error naming only the class', (_name, error, detail) => {
    // Act
    const result = reasonForJoseError(error);

    // Assert
    expect(result).toEqual({ reason: 'internal_error', detail });
  });

  it.each([
    ['a string', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
    ['undefined', undefined],
    ['null', null],
    ['an object with a code', { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }],
  ])('maps a thrown %s to internal_error', (_name, thrown) => {
    // Act
    const result = reasonForJoseError(thrown);

    // Assert
    expect(result).toEqual({ reason: 'internal_error', detail: 'non-error value thrown' });
  });

  it('maps an object whose inspection throws to internal_error instead of throwing', () => {
    // Arrange
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf: () => {
          throw new Error('boom');
        },
      },
    );

    // Act
    const result = reasonForJoseError(hostile);

    // Assert
    expect(result).toEqual({ reason: 'internal_error', detail: 'unreadable error' });
  });
});

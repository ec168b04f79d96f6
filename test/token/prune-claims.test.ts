/**
 * What the verified-token cache keeps of a token: enough for claim validation and the policy to
 * decide exactly as on the whole payload, and nothing the rules do not read (names, e-mail
 * addresses, unused group lists).
 */

import { fc, it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/schema.ts';
import { evaluatePolicy } from '../../src/core/policy/evaluate-policy.ts';
import { claimsKeptFor, pruneClaims } from '../../src/core/token/prune-claims.ts';
import { VALIDATED_CLAIMS, validateClaims } from '../../src/core/token/validate-claims.ts';
import * as shapes from '../support/fixtures/idp/tokens.ts';

const NOW = Date.UTC(2026, 10, 23, 12);
type Claims = Record<string, unknown>;

/** Every documented token shape of every IdP (access and ID tokens) at NOW. */
const SHAPES: [string, Claims][] = Object.entries(shapes)
  .filter((entry): entry is [string, (nowMs: number) => Claims] => typeof entry[1] === 'function')
  .filter(([name]) => name !== 'entraWithGroups')
  .map(([name, build]) => [name, build(NOW)]);

const ISSUER = {
  issuer: 'https://idp.example.org',
  audience: ['api://ahi-dicomweb', shapes.ENTRA_API_APP_ID, shapes.OKTA_AUDIENCE, shapes.AUTH0_AUDIENCE],
  algorithms: ['RS256' as const],
  clockToleranceSeconds: 30,
};

function configWith(paths: string[]) {
  const parsed = parseConfig({
    issuers: [{ issuer: ISSUER.issuer, audience: ISSUER.audience }],
    rules: paths.map((path, index) => ({
      name: `r${index}`,
      claims: { [path]: 'x' },
      roleArn: 'arn:aws:iam::111122223333:role/R',
    })),
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config;
}

/** Records the name of every property validateClaims touches on the payload. */
function touchedBy(payload: Claims): Set<string> {
  const touched = new Set<string>();
  const spy = new Proxy(payload, {
    get: (target, name, receiver) => {
      if (typeof name === 'string') touched.add(name);
      return Reflect.get(target, name, receiver) as unknown;
    },
    has: (target, name) => {
      if (typeof name === 'string') touched.add(name);
      return Reflect.has(target, name);
    },
    getOwnPropertyDescriptor: (target, name) => {
      if (typeof name === 'string') touched.add(name);
      return Reflect.getOwnPropertyDescriptor(target, name);
    },
  });
  validateClaims(
    spy,
    { ...ISSUER, issuer: String(payload['iss']) },
    { nowMs: NOW, maxTokenAgeSeconds: 43_200 },
  );
  return touched;
}

describe('pruneClaims', () => {
  it.each(SHAPES)('validation of %s reads no claim outside VALIDATED_CLAIMS', (_name, payload) => {
    // Act
    const touched = touchedBy(payload);

    // Assert
    expect([...touched].filter((name) => !(VALIDATED_CLAIMS as readonly string[]).includes(name))).toEqual(
      [],
    );
  });

  it.each(SHAPES)('validates %s exactly as the whole payload', (_name, payload) => {
    // Arrange
    const issuer = { ...ISSUER, issuer: String(payload['iss']) };
    const options = { nowMs: NOW, maxTokenAgeSeconds: 43_200 };
    const pruned = pruneClaims(payload, claimsKeptFor(configWith(['roles'])));

    // Act / Assert
    expect(validateClaims(pruned, issuer, options)).toEqual(validateClaims(payload, issuer, options));
  });

  const shapeArb = fc.constantFrom(...SHAPES.map(([, payload]) => payload));
  const pathArb = fc.oneof(
    fc.constantFrom(
      'roles',
      'scp',
      'scope',
      'groups',
      'realm_access.roles',
      'resource_access.dicom-api.roles',
      'cognito:groups',
      'https://dicomweb.example.org/roles',
      'idtyp',
      'oid',
      'email',
      'a.b',
    ),
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((path) => !/(^|\.)(__proto__|prototype|constructor)(\.|$)/.test(path)),
  );

  prop.prop([shapeArb, fc.array(pathArb, { minLength: 1, maxLength: 5 })], { numRuns: 300 })(
    'leaves the policy outcome and trace unchanged for any rules',
    (payload, paths) => {
      // Arrange
      const config = configWith(paths);
      const pruned = pruneClaims(payload, claimsKeptFor(config));
      const decide = (claims: Claims) =>
        evaluatePolicy({
          claims,
          issuer: ISSUER.issuer,
          operation: 'GetDICOMInstance',
          datastoreId: shapes.DATASTORE,
          rules: config.rules,
        });

      // Act / Assert
      expect(decide(pruned)).toEqual(decide(payload));
    },
  );

  it('keeps no personal claim that no rule reads', () => {
    // Arrange
    const payload = shapes.entraV1User(NOW);

    // Act
    const pruned = pruneClaims(payload, claimsKeptFor(configWith(['scp'])));

    // Assert
    for (const personal of ['name', 'given_name', 'family_name', 'upn', 'unique_name', 'email', 'ipaddr']) {
      expect(pruned).not.toHaveProperty(personal);
    }
    expect(pruned).toMatchObject({ scp: payload['scp'], sub: payload['sub'], aud: payload['aud'] });
  });

  it('keeps a claim whose name is "__proto__" as plain data, never as a prototype', () => {
    // Arrange
    const payload = JSON.parse('{"sub":"s","__proto__":{"admin":true}}') as Claims;

    // Act
    const pruned = pruneClaims(payload, new Set(['sub', '__proto__']));

    // Assert
    expect(Object.getPrototypeOf(pruned)).toBe(Object.prototype);
    expect(Object.hasOwn(pruned, '__proto__')).toBe(true);
    expect((pruned as { admin?: unknown }).admin).toBeUndefined();
  });
});

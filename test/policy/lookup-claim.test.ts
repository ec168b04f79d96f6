/**
 * Claim lookup and value sets: exact top-level names before dotted paths, own plain properties
 * only (row 45 of test/security/catalogue.test.ts), `scp`/`scope` splitting only at the top level,
 * and no throw or slowdown on hostile shapes (row 63).
 */

import { describe, expect, it } from 'vitest';
import { claimValueSet, lookupClaim, MAX_CLAIM_VALUES } from '../../src/core/policy/lookup-claim.ts';

describe('lookupClaim', () => {
  it('finds exact top-level names containing colons and URLs', () => {
    // Arrange
    const claims = { 'cognito:groups': ['radiology'], 'https://example.com/roles': ['reader'] };

    // Act
    const cognito = lookupClaim(claims, 'cognito:groups');
    const namespaced = lookupClaim(claims, 'https://example.com/roles');

    // Assert
    expect(cognito).toEqual({ found: true, value: ['radiology'] });
    expect(namespaced).toEqual({ found: true, value: ['reader'] });
  });

  it('prefers an exact top-level name containing dots over the nested path it spells', () => {
    // Arrange
    const claims = { 'realm_access.roles': ['top-level'], realm_access: { roles: ['nested'] } };

    // Act
    const result = lookupClaim(claims, 'realm_access.roles');

    // Assert
    expect(result).toEqual({ found: true, value: ['top-level'] });
  });

  it('walks a dotted path through nested objects when no top-level name matches', () => {
    // Arrange
    const claims = { resource_access: { 'dicom-api': { roles: ['viewer'] } } };

    // Act
    const result = lookupClaim(claims, 'resource_access.dicom-api.roles');

    // Assert
    expect(result).toEqual({ found: true, value: ['viewer'] });
  });

  it('splits a dotted path on every dot, so a nested name containing a dot is not reachable', () => {
    // Arrange
    const claims = { a: { 'b.c': 'x' } };

    // Act
    const result = lookupClaim(claims, 'a.b.c');

    // Assert
    expect(result).toEqual({ found: false });
  });

  it('does not index arrays by path', () => {
    // Arrange
    const claims = { groups: ['first'], nested: [{ roles: ['x'] }] };

    // Act
    const indexed = lookupClaim(claims, 'groups.0');
    const throughArray = lookupClaim(claims, 'nested.0.roles');
    const length = lookupClaim(claims, 'groups.length');

    // Assert
    expect([indexed, throughArray, length]).toEqual([{ found: false }, { found: false }, { found: false }]);
  });

  it('reports absent when a path stops at a scalar or a missing key', () => {
    // Arrange
    const claims = { realm_access: 'not-an-object', other: { roles: [] } };

    // Act
    const throughString = lookupClaim(claims, 'realm_access.roles');
    const missing = lookupClaim(claims, 'other.groups');
    const missingTop = lookupClaim(claims, 'roles');

    // Assert
    expect([throughString, missing, missingTop]).toEqual([
      { found: false },
      { found: false },
      { found: false },
    ]);
  });

  it('finds null and falsy values as present', () => {
    // Arrange
    const claims = { a: null, b: 0, c: false, d: '' };

    // Act
    const results = ['a', 'b', 'c', 'd'].map((path) => lookupClaim(claims, path));

    // Assert
    expect(results).toEqual([
      { found: true, value: null },
      { found: true, value: 0 },
      { found: true, value: false },
      { found: true, value: '' },
    ]);
  });

  it('never finds inherited properties such as toString, constructor or hasOwnProperty', () => {
    // Arrange
    const claims = { sub: 'abc', nested: {} };

    // Act
    const results = [
      'toString',
      'constructor',
      'hasOwnProperty',
      '__proto__',
      'nested.toString',
      'nested.constructor.name',
      'sub.length',
    ].map((path) => lookupClaim(claims, path));

    // Assert
    expect(results.every((result) => !result.found)).toBe(true);
  });

  it('never finds __proto__, constructor or prototype segments even as own JSON properties', () => {
    // Arrange
    const claims = JSON.parse(
      '{"__proto__":{"admin":true},"constructor":"x","a":{"prototype":"y","__proto__":{"b":1}}}',
    ) as Record<string, unknown>;

    // Act
    const results = ['__proto__', '__proto__.admin', 'constructor', 'a.prototype', 'a.__proto__.b'].map(
      (path) => lookupClaim(claims, path),
    );

    // Assert
    expect(results.every((result) => !result.found)).toBe(true);
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });

  it('keeps working when the token carries an own hasOwnProperty claim', () => {
    // Arrange
    const claims = JSON.parse('{"hasOwnProperty":"gotcha","groups":["g1"]}') as Record<string, unknown>;

    // Act
    const groups = lookupClaim(claims, 'groups');
    const shadow = lookupClaim(claims, 'hasOwnProperty');

    // Assert
    expect(groups).toEqual({ found: true, value: ['g1'] });
    expect(shadow).toEqual({ found: true, value: 'gotcha' });
  });

  it('walks null-prototype objects but not Maps, Dates or class instances', () => {
    // Arrange
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { roles: ['bare'] });
    class Holder {
      roles = ['instance'];
    }
    const claims = {
      bare,
      map: new Map([['roles', ['map']]]),
      date: Object.assign(new Date(0), { roles: ['date'] }),
      instance: new Holder(),
    };

    // Act
    const results = ['bare.roles', 'map.roles', 'date.roles', 'instance.roles'].map((path) =>
      lookupClaim(claims, path),
    );

    // Assert
    expect(results).toEqual([
      { found: true, value: ['bare'] },
      { found: false },
      { found: false },
      { found: false },
    ]);
  });

  it('never invokes getters and treats accessor properties as absent', () => {
    // Arrange
    let calls = 0;
    const claims = {};
    Object.defineProperty(claims, 'roles', {
      enumerable: true,
      get() {
        calls += 1;
        throw new Error('getter ran');
      },
    });

    // Act
    const result = lookupClaim(claims, 'roles');

    // Assert
    expect(result).toEqual({ found: false });
    expect(calls).toBe(0);
  });

  it('treats an own property holding undefined as absent', () => {
    // Arrange
    const claims = { roles: undefined, nested: { roles: undefined } };

    // Act
    const top = lookupClaim(claims, 'roles');
    const nested = lookupClaim(claims, 'nested.roles');

    // Assert
    expect([top, nested]).toEqual([{ found: false }, { found: false }]);
  });

  it('does not throw on proxies whose traps throw, or on revoked proxies', () => {
    // Arrange
    const hostile = new Proxy(
      {},
      {
        getOwnPropertyDescriptor() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
        has() {
          throw new Error('trap');
        },
      },
    );
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();

    // Act
    const run = () => [
      lookupClaim(hostile, 'roles'),
      lookupClaim({ nested: hostile }, 'nested.roles'),
      lookupClaim(revocable.proxy, 'roles'),
      lookupClaim({ nested: revocable.proxy }, 'nested.roles'),
    ];

    // Assert
    expect(run).not.toThrow();
    expect(run().every((result) => !result.found)).toBe(true);
  });

  it('does not throw when the claims themselves are not an object', () => {
    // Arrange
    const roots: unknown[] = [null, undefined, 'roles', 42, ['roles']];

    // Act
    const results = roots.map((root) => lookupClaim(root as Record<string, unknown>, 'roles'));

    // Assert
    expect(results.every((result) => !result.found)).toBe(true);
  });

  it('follows a path through deeply nested objects without recursion', () => {
    // Arrange
    const depth = 20_000;
    let claims: Record<string, unknown> = { leaf: 'bottom' };
    for (let level = 0; level < depth; level += 1) claims = { n: claims };
    const path = `${'n.'.repeat(depth)}leaf`;

    // Act
    const result = lookupClaim(claims, path);

    // Assert
    expect(result).toEqual({ found: true, value: 'bottom' });
  });
});

describe('claimValueSet', () => {
  it('gives the scalar elements of an array and ignores objects, arrays and null inside it', () => {
    // Arrange
    const value = ['a', 1, true, null, { x: 1 }, ['b'], undefined, 2n, Symbol('s')];

    // Act
    const set = claimValueSet('groups', value);

    // Assert
    expect(set).toEqual(['a', 1, true]);
  });

  it('gives a string itself without splitting when the claim is not top-level scp or scope', () => {
    // Arrange
    const value = 'Dicom.Read Dicom.Write';

    // Act
    const roles = claimValueSet('roles', value);
    const nestedScp = claimValueSet('x.scp', value);
    const nestedScope = claimValueSet('ext.scope', value);

    // Assert
    expect(roles).toEqual(['Dicom.Read Dicom.Write']);
    expect(nestedScp).toEqual(['Dicom.Read Dicom.Write']);
    expect(nestedScope).toEqual(['Dicom.Read Dicom.Write']);
  });

  it('splits top-level scp and scope strings on single and repeated spaces, dropping empty parts', () => {
    // Arrange
    const value = '  Dicom.ReadWrite   openid profile ';

    // Act
    const scp = claimValueSet('scp', value);
    const scope = claimValueSet('scope', value);

    // Assert
    expect(scp).toEqual(['Dicom.ReadWrite', 'openid', 'profile']);
    expect(scope).toEqual(['Dicom.ReadWrite', 'openid', 'profile']);
  });

  it('gives nothing for an empty or all-space scope string', () => {
    // Arrange
    const values = ['', '   '];

    // Act
    const sets = values.map((value) => claimValueSet('scope', value));

    // Assert
    expect(sets).toEqual([[], []]);
  });

  it('keeps an scp array as its elements without splitting them', () => {
    // Arrange
    const value = ['Dicom.Read Dicom.Write', 'openid'];

    // Act
    const set = claimValueSet('scp', value);

    // Assert
    expect(set).toEqual(['Dicom.Read Dicom.Write', 'openid']);
  });

  it('gives numbers and booleans themselves, and nothing for objects, null or undefined', () => {
    // Arrange
    const inputs: unknown[] = [7, false, { roles: ['x'] }, null, undefined, () => 'x'];

    // Act
    const sets = inputs.map((value) => claimValueSet('claim', value));

    // Assert
    expect(sets).toEqual([[7], [false], [], [], [], []]);
  });

  it(`considers only the first ${MAX_CLAIM_VALUES} elements of a huge array`, () => {
    // Arrange
    const groups = Array.from({ length: 10_000 }, (_, index) => `group-${index}`);

    // Act
    const set = claimValueSet('groups', groups);

    // Assert
    expect(set).toHaveLength(MAX_CLAIM_VALUES);
    expect(set.at(-1)).toBe(`group-${MAX_CLAIM_VALUES - 1}`);
  });

  it(`considers only the first ${MAX_CLAIM_VALUES} parts of a huge scope string`, () => {
    // Arrange
    const scope = Array.from({ length: 5000 }, (_, index) => `s${index}`).join(' ');

    // Act
    const set = claimValueSet('scope', scope);

    // Assert
    expect(set).toHaveLength(MAX_CLAIM_VALUES);
  });

  it('skips holes in sparse arrays and does not throw on hostile arrays', () => {
    // Arrange
    const sparse: unknown[] = [];
    sparse[5] = 'late';
    const hostile = new Proxy(['x'], {
      get() {
        throw new Error('trap');
      },
    });

    // Act
    const sparseSet = claimValueSet('groups', sparse);
    const run = () => claimValueSet('groups', hostile);

    // Assert
    expect(sparseSet).toEqual(['late']);
    expect(run).not.toThrow();
    expect(run()).toEqual([]);
  });
});

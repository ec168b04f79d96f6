/**
 * The HealthImaging DICOMweb routes: each documented method and path maps to its operation name,
 * other methods get 405, other paths and malformed datastore ids 404.
 */

import { describe, expect, it } from 'vitest';
import { routeDicomweb } from '../../../src/tools/sandbox/route-dicomweb.ts';
import { KNOWN_OPERATIONS } from '../../../src/core/contract/healthimaging.ts';

const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const base = `/datastore/${DS}`;

describe('routeDicomweb', () => {
  const cases: [string, string, string][] = [
    ['GET', '/studies', 'SearchDICOMStudies'],
    ['GET', '/studies/', 'SearchDICOMStudies'],
    ['GET', '/studies/1.2.3/series', 'SearchDICOMSeries'],
    ['GET', '/studies/1.2.3/series/4.5/instances', 'SearchDICOMInstances'],
    ['GET', '/studies/1.2.3/series/4.5/metadata', 'GetDICOMSeriesMetadata'],
    ['GET', '/studies/1.2.3/series/4.5/instances/6.7', 'GetDICOMInstance'],
    ['GET', '/studies/1.2.3/series/4.5/instances/6.7/metadata', 'GetDICOMInstanceMetadata'],
    ['GET', '/studies/1.2.3/series/4.5/instances/6.7/frames/1,2', 'GetDICOMInstanceFrames'],
    ['GET', '/studies/1.2.3/series/4.5/instances/6.7/bulkdata/b026324c6904b2a9', 'GetDICOMBulkdata'],
    ['POST', '/studies', 'StoreDICOM'],
    ['POST', '/studies/1.2.3', 'StoreDICOMStudy'],
  ];

  it.each(cases)('maps %s %s to %s', (method, path, operation) => {
    expect(routeDicomweb(method, `${base}${path}`)).toEqual({ ok: true, datastoreId: DS, operation });
  });

  it('covers every known HealthImaging operation', () => {
    expect([...new Set(cases.map(([, , operation]) => operation))].sort()).toEqual(
      [...KNOWN_OPERATIONS].sort(),
    );
  });

  it.each([
    ['DELETE', '/studies', 405],
    ['POST', '/studies/1/series', 405],
    ['GET', '/studies/1/rendered', 404],
    ['GET', '/studies//series', 404],
    ['GET', '/studies/1/series/2/instances/3/bulkdata', 404],
  ])('answers %s %s with %i', (method, path, status) => {
    expect(routeDicomweb(method, `${base}${path}`)).toMatchObject({ ok: false, status });
  });

  it('answers 404 for a path outside /datastore/{id} or a malformed datastore id', () => {
    expect(routeDicomweb('GET', '/studies')).toMatchObject({ ok: false, status: 404 });
    expect(routeDicomweb('GET', '/datastore/NOT-AN-ID/studies')).toMatchObject({ ok: false, status: 404 });
  });
});

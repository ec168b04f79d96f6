/**
 * Maps a HealthImaging DICOMweb request (method + path) to the operation name HealthImaging puts in
 * the authorizer event, the IAM action `medical-imaging:<operation>`. Paths follow the AHI
 * developer guide (https://docs.aws.amazon.com/healthimaging/latest/devguide/); all start with
 * /datastore/{datastoreId}, and query strings (e.g. imageSetId) are ignored.
 */

import { DATASTORE_ID_PATTERN } from '../../core/contract/healthimaging.ts';

export type DicomwebRoute =
  { ok: true; datastoreId: string; operation: string } | { ok: false; status: 404 | 405; message: string };

interface Pattern {
  method: 'GET' | 'POST';
  /** Segments after /datastore/{id}: literals, '*' for one segment, '**' for one or more. */
  path: readonly string[];
  operation: string;
}

/**
 * From the guide's pages dicomweb-search-* (QIDO-RS), dicomweb-retrieve-* and dicom-retrieve-bulkdata
 * (WADO-RS), and dicomweb-storing (STOW-RS).
 */
export const DICOMWEB_PATTERNS: readonly Pattern[] = [
  { method: 'GET', path: ['studies'], operation: 'SearchDICOMStudies' },
  { method: 'GET', path: ['studies', '*', 'series'], operation: 'SearchDICOMSeries' },
  { method: 'GET', path: ['studies', '*', 'series', '*', 'instances'], operation: 'SearchDICOMInstances' },
  { method: 'GET', path: ['studies', '*', 'series', '*', 'metadata'], operation: 'GetDICOMSeriesMetadata' },
  { method: 'GET', path: ['studies', '*', 'series', '*', 'instances', '*'], operation: 'GetDICOMInstance' },
  {
    method: 'GET',
    path: ['studies', '*', 'series', '*', 'instances', '*', 'metadata'],
    operation: 'GetDICOMInstanceMetadata',
  },
  {
    method: 'GET',
    path: ['studies', '*', 'series', '*', 'instances', '*', 'frames', '*'],
    operation: 'GetDICOMInstanceFrames',
  },
  {
    method: 'GET',
    path: ['studies', '*', 'series', '*', 'instances', '*', 'bulkdata', '**'],
    operation: 'GetDICOMBulkdata',
  },
  { method: 'POST', path: ['studies'], operation: 'StoreDICOM' },
  { method: 'POST', path: ['studies', '*'], operation: 'StoreDICOMStudy' },
];

function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  for (let index = 0; index < pattern.length; index += 1) {
    const want = pattern[index];
    if (want === '**') return segments.length > index && segments.slice(index).every((s) => s.length > 0);
    const got = segments[index];
    if (got === undefined || got.length === 0) return false;
    if (want !== '*' && want !== got) return false;
  }
  return segments.length === pattern.length;
}

export function routeDicomweb(method: string, pathname: string): DicomwebRoute {
  // A trailing slash is tolerated (…/studies/); empty inner segments are not.
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const [empty, datastore, datastoreId, ...rest] = trimmed.split('/');
  if (empty !== '' || datastore !== 'datastore' || datastoreId === undefined) {
    return {
      ok: false,
      status: 404,
      message: 'not a HealthImaging DICOMweb path: /datastore/{datastoreId}/studies…',
    };
  }
  if (!DATASTORE_ID_PATTERN.test(datastoreId)) {
    return { ok: false, status: 404, message: 'datastoreId is not 32 characters of [0-9a-z]' };
  }
  const candidates = DICOMWEB_PATTERNS.filter((pattern) => matches(pattern.path, rest));
  const found = candidates.find((pattern) => pattern.method === method);
  if (found) return { ok: true, datastoreId, operation: found.operation };
  if (candidates.length > 0) {
    return {
      ok: false,
      status: 405,
      message: `use ${candidates.map((pattern) => pattern.method).join(' or ')} here`,
    };
  }
  return { ok: false, status: 404, message: 'no HealthImaging DICOMweb operation has this path' };
}

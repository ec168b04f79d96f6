/**
 * The CreateDatastore options a hospital sets besides the name and the authorizer: a customer-managed
 * KMS key, the lossless storage format and tags. One set of rules from the CreateDatastore API
 * (https://docs.aws.amazon.com/healthimaging/latest/APIReference/API_CreateDatastore.html), checked
 * when the settings are parsed (infra/deploy-settings.ts) and the construct declared
 * (infra/healthimaging-datastore.ts), so a bad value fails `cdk synth`, not a deployment.
 */

// Plain TypeScript: no CDK, and the SDK for its types only (nothing of it at run time).
import type { LosslessStorageFormat } from '@aws-sdk/client-medical-imaging';
import { duplicateKeyIssues } from '../src/core/config/schema.ts';

/** The values of the SDK's LosslessStorageFormat (@aws-sdk/client-medical-imaging 3.958). */
export const LOSSLESS_STORAGE_FORMATS = [
  'HTJ2K',
  'JPEG_2000_LOSSLESS',
] as const satisfies readonly LosslessStorageFormat[];
// Fails to compile when the SDK learns a format this list lacks.
const everyFormatListed: Exclude<
  LosslessStorageFormat,
  (typeof LOSSLESS_STORAGE_FORMATS)[number]
> extends never
  ? true
  : never = true;
void everyFormatListed;

export interface DatastoreOptions {
  /** Customer-managed KMS key that encrypts the datastore (default: an AWS owned key). */
  readonly kmsKeyArn?: string;
  readonly losslessStorageFormat?: LosslessStorageFormat;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The API's kmsKeyArn pattern, key form only: the API also takes an alias ARN, but an IAM policy
 * cannot grant the creating role the key's use through an alias ARN, and the alias could later point
 * at another key while the datastore keeps the first.
 */
export const KMS_KEY_ARN =
  /^arn:aws[a-zA-Z-]{0,16}:kms:[a-z]{2}(-[a-z]{1,16}){1,3}-\d:\d{12}:key\/[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$/;

/**
 * The API's tag key pattern `(?!aws:)[a-zA-Z+-=._:/]+`, as written: `+-=` is a range, so it also
 * admits digits and `, / : ; <`. `AWS:` in any case is refused too, stricter than the pattern.
 */
const TAG_KEY = /^(?!aws:)[a-zA-Z+-=._:/]+$/;
const TAG_KEY_MAX = 128;
const TAG_VALUE_MAX = 256;

/** A problem with one option: which option, and one sentence without the option's name. */
export interface DatastoreOptionProblem {
  readonly option: keyof DatastoreOptions;
  readonly message: string;
}

/** Every problem with the options; empty when CreateDatastore would accept them. */
export function datastoreOptionProblems(
  options: {
    readonly kmsKeyArn?: string | undefined;
    readonly losslessStorageFormat?: string | undefined;
    readonly tags?: Readonly<Record<string, unknown>> | undefined;
  },
  isToken: (value: string) => boolean = () => false,
): DatastoreOptionProblem[] {
  const problems: DatastoreOptionProblem[] = [];
  const { kmsKeyArn, losslessStorageFormat, tags } = options;
  if (kmsKeyArn !== undefined && !isToken(kmsKeyArn) && !KMS_KEY_ARN.test(kmsKeyArn)) {
    problems.push({
      option: 'kmsKeyArn',
      message: `expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; not an alias), got ${JSON.stringify(kmsKeyArn)}`,
    });
  }
  if (
    losslessStorageFormat !== undefined &&
    !isToken(losslessStorageFormat) &&
    !(LOSSLESS_STORAGE_FORMATS as readonly string[]).includes(losslessStorageFormat)
  ) {
    problems.push({
      option: 'losslessStorageFormat',
      message: `expected one of ${LOSSLESS_STORAGE_FORMATS.join(', ')}, got ${JSON.stringify(losslessStorageFormat)}`,
    });
  }
  for (const [key, value] of Object.entries(tags ?? {})) {
    if (key.length > TAG_KEY_MAX || !TAG_KEY.test(key) || /^aws:/i.test(key)) {
      problems.push({
        option: 'tags',
        message: `key ${JSON.stringify(key)} must be 1-${TAG_KEY_MAX} characters of [a-zA-Z0-9+,-./:;<=_] and must not start with "aws:"`,
      });
    }
    if (typeof value !== 'string' || value.length > TAG_VALUE_MAX) {
      problems.push({
        option: 'tags',
        message: `the value of ${JSON.stringify(key)} must be a string of at most ${TAG_VALUE_MAX} characters`,
      });
    }
  }
  return problems;
}

/**
 * Tags from a deployment input: a JSON object (from a props file, or as JSON text from `-c`), or
 * `key=value,key=value` (a value may be empty; use JSON for keys or values holding `,` or `=`).
 * Returns the map as given (validate it with datastoreOptionProblems) or the reason it is unreadable.
 */
export function readTags(value: unknown): { tags: Record<string, unknown> } | { problem: string } {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return { tags: { ...(value as Record<string, unknown>) } };
  }
  if (typeof value !== 'string') {
    return { problem: `expected a JSON object or key=value,key=value, got ${JSON.stringify(value)}` };
  }
  const text = value.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return { problem: `not valid JSON (${error instanceof Error ? error.message : 'unknown error'})` };
    }
    const duplicates = duplicateKeyIssues(text);
    if (duplicates.length > 0) return { problem: duplicates.map((issue) => issue.message).join('; ') };
    return readTags(parsed);
  }
  const tags: Record<string, unknown> = {};
  for (const pair of text.split(',')) {
    const equals = pair.indexOf('=');
    if (equals < 0) return { problem: `expected key=value, got ${JSON.stringify(pair.trim())}` };
    const key = pair.slice(0, equals).trim();
    if (Object.hasOwn(tags, key)) return { problem: `the key ${JSON.stringify(key)} is given twice` };
    tags[key] = pair.slice(equals + 1).trim();
  }
  return { tags };
}

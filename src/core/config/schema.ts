/**
 * The authorizer configuration (a public contract, docs/configuration.md): one valibot definition
 * gives the TypeScript type, the validation with JSON-path errors, and config.schema.json. Secure by
 * default: unknown and repeated keys fail, issuer + audience/clientIds are required, only asymmetric
 * algorithms. valibot rather than zod/mini: markedly cheaper to import and run on a cold start, and
 * smaller.
 */

// A namespace import: esbuild keeps only the functions used.
import * as v from 'valibot';
import { DATASTORE_ID_PATTERN } from '../contract/healthimaging.ts';
import { type Algorithm, ASYMMETRIC_ALGORITHMS, MAX_TOKEN_AGE_SECONDS } from '../kernel/limits.ts';
import type { Result } from '../kernel/result.ts';
import { findDuplicateMembers } from './duplicate-members.ts';

export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https everywhere; http only for loopback hosts (tests and the local sandbox). */
export function isAllowedEndpointUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password || url.hash) return false;
  if (url.protocol === 'https:') return true;
  return (
    url.protocol === 'http:' &&
    (LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname))
  );
}

const UNKNOWN_KEY = 'unknown key (check for a typo)';

/** valibot's issue for a key the strict object does not declare (its own and ours below). */
function isUnknownKeyIssue(issue: v.BaseIssue<unknown>): boolean {
  return issue.expected === 'never' && issue.path?.at(-1)?.origin === 'key';
}

/** valibot's object and record schemas take an array for an object; zod's did not. */
const objectType = <T>(accept: (input: unknown) => boolean) =>
  v.custom<T>(accept, (issue) => `Invalid type: Expected Object but received ${issue.received}`);

/**
 * A strict object that rejects an array, like zod's, and names every unknown key: valibot's
 * strictObject stops at the first one, and an operator should see all their typos at once.
 */
export function strictObject<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  const object = v.strictObject(entries);
  return v.pipe(
    objectType<v.InferInput<typeof object>>((input) => !Array.isArray(input)),
    object,
    v.rawCheck(({ dataset, addIssue }) => {
      const item = dataset.issues?.find((issue) => issue.path?.length === 1 && isUnknownKeyIssue(issue))
        ?.path?.[0];
      if (item?.type !== 'object') return;
      for (const key of Object.keys(item.input)) {
        if (key === item.key || Object.hasOwn(entries, key)) continue;
        addIssue({
          input: key,
          expected: 'never',
          message: UNKNOWN_KEY,
          path: [{ type: 'object', origin: 'key', input: item.input, key, value: item.input[key] }],
        });
      }
    }),
  );
}

/**
 * Whether an object-level refinement runs: as before (zod), after unknown keys and failed checks,
 * not after a value of the wrong type or an invalid claim path (valibot's own `check` would also
 * stop at an unknown key).
 */
export function refinable<T>(
  dataset: v.OutputDataset<T, v.BaseIssue<unknown>>,
): dataset is v.OutputDataset<T, v.BaseIssue<unknown>> & { value: T } {
  return (dataset.issues ?? []).every(
    (issue) =>
      isUnknownKeyIssue(issue) || (issue.kind === 'validation' && issue.path?.at(-1)?.origin !== 'key'),
  );
}

const endpointUrl = (what: string) =>
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(2048),
    v.check((value) => !/\s/.test(value), `${what} must not contain whitespace`),
    v.check(
      isAllowedEndpointUrl,
      `${what} must be an https URL (http only for localhost / 127.0.0.1 / [::1]) without credentials or fragment`,
    ),
  );

/**
 * An issuer is an identifier compared byte for byte, not always a place to fetch from: AD FS names
 * itself `http://<host>/adfs/services/trust` by default. So any http(s) URL is accepted here, and an
 * issuer that is not an allowed endpoint (http off loopback) must pin an https `jwksUri` (below):
 * keys then never come from it.
 */
const issuerName = () =>
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(2048),
    v.check((value) => !/\s/.test(value), 'issuer must not contain whitespace'),
    v.check(
      (value) => isAllowedEndpointUrl(value) || isHttpIdentifier(value),
      'issuer must be an https URL (an http one only with a pinned https jwksUri) without credentials or fragment',
    ),
  );

function isHttpIdentifier(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && !url.username && !url.password && !url.hash;
  } catch {
    return false;
  }
}

const nonEmptyString = () => v.pipe(v.string(), v.minLength(1), v.maxLength(1024));
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const IssuerConfigSchema = v.pipe(
  strictObject({
    issuer: v.pipe(
      issuerName(),
      v.description(
        'Exact `iss` value, compared byte for byte. https; an http identifier (AD FS default) only with a pinned https jwksUri.',
      ),
    ),
    jwksUri: v.pipe(
      v.optional(endpointUrl('jwksUri')),
      v.description('Pinned JWKS URL. Absent: OIDC discovery at issuer + /.well-known/openid-configuration.'),
    ),
    audience: v.pipe(
      v.optional(
        v.union([nonEmptyString(), v.pipe(v.array(nonEmptyString()), v.minLength(1), v.maxLength(32))]),
      ),
      v.description('The token `aud` must contain one of these.'),
    ),
    clientIds: v.pipe(
      v.optional(v.pipe(v.array(nonEmptyString()), v.minLength(1), v.maxLength(256))),
      v.description('The token client (`client_id`, else `azp`, else `appid`) must be one of these.'),
    ),
    algorithms: v.pipe(
      // A function, so no two parsed configs share (and could mutate) one default array.
      v.optional(v.pipe(v.array(v.picklist(ASYMMETRIC_ALGORITHMS)), v.minLength(1)), (): Algorithm[] => [
        'RS256',
      ]),
      v.description('Allowed JWS algorithms (asymmetric only). Default ["RS256"].'),
    ),
    tokenType: v.pipe(
      v.optional(nonEmptyString()),
      v.description(
        'Required JWS `typ` header, e.g. "at+jwt" (RFC 9068); case-insensitive, `application/` ignored.',
      ),
    ),
    acceptIdTokens: v.pipe(
      v.optional(v.boolean()),
      v.description(
        'Accept ID tokens as access tokens. Default false: a token marked as an ID token (payload typ "ID", token_use "id", at_hash, c_hash, s_hash, or a nonce outside a Keycloak access token) is denied with token_type_invalid. true only for an IdP that issues no access tokens for your API (docs/idp).',
      ),
    ),
    tenantId: v.pipe(
      v.optional(
        v.pipe(v.string(), v.regex(GUID, 'tenantId must be a GUID (the Entra ID directory/tenant id)')),
      ),
      v.description('Entra ID: the token `tid` must equal this.'),
    ),
    clockToleranceSeconds: v.pipe(
      v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_CLOCK_TOLERANCE_SECONDS)),
        DEFAULT_CLOCK_TOLERANCE_SECONDS,
      ),
      v.description('Leeway for every time check. Default 30, maximum 300.'),
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!refinable(dataset)) return;
    const issuer = dataset.value;
    if (!isAllowedEndpointUrl(issuer.issuer) && issuer.jwksUri === undefined) {
      addIssue({
        message:
          'an http issuer is only an identifier: set jwksUri to the https JWKS URL (discovery from an http issuer is never used)',
        path: [{ type: 'object', origin: 'value', input: issuer, key: 'issuer', value: issuer.issuer }],
      });
    }
    if (issuer.audience === undefined && issuer.clientIds === undefined) {
      addIssue({
        message: 'set audience or clientIds (or both): a token must be bound to this API or to known clients',
      });
    }
  }),
);

// v.number() takes Infinity; claim values come from JSON, so only finite numbers (as before).
const scalar = v.union([v.pipe(v.string(), v.maxLength(1024)), v.pipe(v.number(), v.finite()), v.boolean()]);

const FORBIDDEN_PATH_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);
const isAllowedClaimPath = (path: string) =>
  !path.split('.').some((segment) => FORBIDDEN_PATH_SEGMENTS.has(segment));

const claimConditionValue = v.union([scalar, v.pipe(v.array(scalar), v.minLength(1), v.maxLength(256))]);
const claimRecord = v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(256)), claimConditionValue);

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Claim paths are checked on the raw object: valibot's record silently skips the keys __proto__,
 * prototype and constructor, which would make a rule looser than written.
 */
const claimConditions = v.pipe(
  objectType<v.InferInput<typeof claimRecord>>(isPlainObject),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const claims = dataset.value;
    for (const key of Object.keys(claims)) {
      if (isAllowedClaimPath(key)) continue;
      addIssue({
        input: key,
        message: 'claim paths must not use __proto__, prototype or constructor',
        path: [{ type: 'object', origin: 'key', input: claims, key, value: claims[key] }],
      });
    }
  }),
  claimRecord,
  v.check((claims) => Object.keys(claims).length > 0, 'a rule needs at least one claim condition'),
);

const OPERATION_NAME = /^[A-Z][A-Za-z0-9]{1,63}$/;
const datastoreId = () =>
  v.pipe(v.string(), v.regex(DATASTORE_ID_PATTERN, 'datastore ids are 32 characters of [0-9a-z]'));

export const RoleRuleSchema = strictObject({
  name: v.pipe(
    v.string(),
    v.regex(
      /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/,
      'name must be 1-64 characters of letters, digits, . _ : - (it appears in logs)',
    ),
    v.description('Unique; appears in logs and explanations.'),
  ),
  roleArn: v.pipe(
    v.string(),
    v.regex(
      /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
      'roleArn must be arn:aws:iam::<12 digits>:role/<path and name>',
    ),
    v.description('The IAM role HealthImaging assumes when this rule decides.'),
  ),
  claims: v.pipe(
    claimConditions,
    v.description(
      'Claim path → value(s). Every condition must hold; a condition holds when any value matches.',
    ),
  ),
  issuer: v.pipe(
    v.optional(endpointUrl('issuer')),
    v.description('Only tokens from this configured issuer.'),
  ),
  operations: v.pipe(
    v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string(),
            v.check(
              (op) => op === 'read' || op === 'write' || OPERATION_NAME.test(op),
              'operations are "read", "write" or operation names such as "GetDICOMInstance"',
            ),
          ),
        ),
        v.minLength(1),
      ),
    ),
    v.description('"read", "write" or operation names. Default: all known operations.'),
  ),
  datastores: v.pipe(
    v.optional(v.pipe(v.array(datastoreId()), v.minLength(1))),
    v.description('Only these datastores.'),
  ),
});

/** An issue path into the parsed config, for the cross-field checks below. */
function configPath(
  config: Record<string, unknown>,
  list: 'issuers' | 'rules',
  index: number,
  key: string,
): [v.IssuePathItem, ...v.IssuePathItem[]] {
  const items = config[list] as Record<string, unknown>[];
  const item = items[index]!;
  return [
    { type: 'object', origin: 'value', input: config, key: list, value: items },
    { type: 'array', origin: 'value', input: items, key: index, value: item },
    { type: 'object', origin: 'value', input: item, key, value: item[key] },
  ];
}

export const AuthorizerConfigSchema = v.pipe(
  strictObject({
    $schema: v.pipe(v.optional(v.string()), v.description('Editor hint; ignored.')),
    issuers: v.pipe(
      v.array(IssuerConfigSchema),
      v.minLength(1, 'list at least one issuer: the identity providers whose tokens are trusted'),
      v.maxLength(32),
    ),
    rules: v.pipe(
      v.array(RoleRuleSchema),
      v.minLength(1, 'list at least one rule: without one every token is denied (no_role_mapping)'),
      v.maxLength(512),
      v.description('Ordered; the first match wins.'),
    ),
    datastores: v.pipe(
      v.optional(v.pipe(v.array(datastoreId()), v.minLength(1))),
      v.description('Allowlist of datastore ids; others are denied with unknown_datastore.'),
    ),
    maxTokenAgeSeconds: v.pipe(
      v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_TOKEN_AGE_SECONDS)),
        MAX_TOKEN_AGE_SECONDS,
      ),
      v.description('The iat window. Default and maximum 43200 (12 h, HealthImaging’s own limit).'),
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!refinable(dataset)) return;
    const config = dataset.value;
    const issuers = new Set<string>();
    config.issuers.forEach((issuer, index) => {
      if (issuers.has(issuer.issuer)) {
        addIssue({ message: 'duplicate issuer', path: configPath(config, 'issuers', index, 'issuer') });
      }
      issuers.add(issuer.issuer);
    });
    const names = new Set<string>();
    config.rules.forEach((rule, index) => {
      if (names.has(rule.name)) {
        addIssue({
          message: `duplicate rule name "${rule.name}"`,
          path: configPath(config, 'rules', index, 'name'),
        });
      }
      names.add(rule.name);
      if (rule.issuer !== undefined && !issuers.has(rule.issuer)) {
        addIssue({
          message: 'rule issuer is not one of the configured issuers[].issuer',
          path: configPath(config, 'rules', index, 'issuer'),
        });
      }
    });
  }),
);

export type AuthorizerConfig = v.InferOutput<typeof AuthorizerConfigSchema>;
export type AuthorizerConfigInput = v.InferInput<typeof AuthorizerConfigSchema>;
export type IssuerConfig = AuthorizerConfig['issuers'][number];
export type RoleRule = AuthorizerConfig['rules'][number];
export type ClaimScalar = string | number | boolean;

export interface ConfigIssue {
  /** JSON path such as `$.issuers[0].audience`. */
  path: string;
  message: string;
}

export type ConfigParseResult = Result<{ config: AuthorizerConfig }, { issues: ConfigIssue[] }>;

export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/**
 * JSON.parse keeps a `__proto__` key as an own property, but object parsing (valibot's, as zod's
 * before it) silently drops it, which would make a rule looser than written. Such keys are
 * rejected wherever they appear.
 */
function findProtoKeys(value: unknown, path: PropertyKey[], out: ConfigIssue[], depth = 0): void {
  if (depth > 32 || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) findProtoKeys(item, [...path, index], out, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__')
      out.push({ path: formatJsonPath([...path, key]), message: '"__proto__" is not allowed' });
    else findProtoKeys((value as Record<string, unknown>)[key], [...path, key], out, depth + 1);
  }
}

/** Validates an already-parsed JSON value. Never throws. */
export function parseConfig(value: unknown): ConfigParseResult {
  const result = parseWithSchema(AuthorizerConfigSchema, value);
  return result.ok ? { ok: true, config: result.output } : result;
}

/**
 * Validates a JSON value with one of this project's valibot schemas, reporting every issue by JSON
 * path (unknown keys named as such), after refusing `__proto__` keys the schema would silently drop.
 * Shared by the authorizer config and the deployment settings (infra/deploy-settings.ts).
 */
export function parseWithSchema<TSchema extends v.GenericSchema>(
  schema: TSchema,
  value: unknown,
): Result<{ output: v.InferOutput<TSchema> }, { issues: ConfigIssue[] }> {
  const protoIssues: ConfigIssue[] = [];
  findProtoKeys(value, [], protoIssues);
  if (protoIssues.length > 0) return { ok: false, issues: protoIssues };
  const result = v.safeParse(schema, value);
  if (result.success) return { ok: true, output: result.output };
  return {
    ok: false,
    issues: result.issues.map((issue) => ({
      path: formatJsonPath(
        (issue.path ?? []).map((item) => (typeof item.key === 'number' ? item.key : String(item.key))),
      ),
      message: issueMessage(issue),
    })),
  };
}

/**
 * An issue in the project's words: our own messages as written; valibot's defaults, which speak
 * of the validator ("Invalid key: Expected "rules" but received undefined"), reworded.
 */
function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (isUnknownKeyIssue(issue)) return UNKNOWN_KEY;
  // A declared key that is absent: valibot reports the key itself as received undefined.
  if (issue.kind === 'schema' && issue.path?.at(-1)?.origin === 'key' && issue.received === 'undefined') {
    return 'required';
  }
  if (issue.message.startsWith('Invalid length: ')) {
    const input = issue.input;
    const count = typeof issue.requirement === 'number' ? issue.requirement : Number.NaN;
    const unit = Array.isArray(input)
      ? (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`
      : (n: number) => `${n} character${n === 1 ? '' : 's'}`;
    if (issue.type === 'min_length') {
      return Array.isArray(input) && input.length === 0 && count === 1
        ? 'must not be empty: list at least one entry'
        : input === ''
          ? 'must not be empty'
          : `too short: at least ${unit(count)}`;
    }
    if (issue.type === 'max_length') return `too long: at most ${unit(count)}`;
  }
  return issue.message;
}

/**
 * Every member name repeated within one object of JSON text, by JSON path. JSON.parse keeps only
 * the last one, so the file would not mean what a reviewer reads. `text` must be valid JSON.
 */
export function duplicateKeyIssues(text: string): ConfigIssue[] {
  return findDuplicateMembers(text).map((path) => ({
    path: formatJsonPath(path),
    message: `duplicate key ${JSON.stringify(path.at(-1))} (JSON keeps only the last one)`,
  }));
}

/**
 * Validates JSON text (a file, an env variable or an SSM value): every reader of a config calls
 * this. Never throws. Repeated keys are reported alone: the schema would judge the value JSON.parse
 * kept, not the document as written.
 */
export function parseConfigText(text: string): ConfigParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof SyntaxError ? error.message : 'not valid JSON';
    return { ok: false, issues: [{ path: '$', message: `not valid JSON: ${message}` }] };
  }
  const duplicates = duplicateKeyIssues(text);
  if (duplicates.length > 0) return { ok: false, issues: duplicates };
  return parseConfig(value);
}

export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n');
}

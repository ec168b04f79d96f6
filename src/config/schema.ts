/**
 * The authorizer configuration (a public contract, PRODUCT.md §3): one zod definition gives the
 * TypeScript type, the validation with JSON-path errors, and the published config.schema.json.
 * Secure by default: unknown keys fail, issuer + audience/clientIds are required, only asymmetric
 * algorithms, and the iat window can never exceed HealthImaging's own 12 hours.
 */

import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { DATASTORE_ID_PATTERN } from '../contract/healthimaging.ts';

/** HealthImaging rejects tokens issued more than 12 h ago; we never allow a longer window. */
export const MAX_TOKEN_AGE_SECONDS = 43_200;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/** Asymmetric JWS algorithms only: `none` and HS* can never be configured (SECURITY.md rows 19-21). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type Algorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

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

/**
 * zod/mini (not the classic API): the same validation at ~25 KB instead of ~440 KB of bundle, which
 * is parse time on every cold start. Descriptions go to the registry that feeds config.schema.json.
 */
// Readable default messages ("Too small: expected array to have >=1 items") instead of "Invalid input".
z.config(en());

function describe<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

const endpointUrl = (what: string) =>
  z.string().check(
    z.minLength(1),
    z.maxLength(2048),
    z.refine((v) => !/\s/.test(v), { message: `${what} must not contain whitespace` }),
    z.refine(isAllowedEndpointUrl, {
      message: `${what} must be an https URL (http only for localhost / 127.0.0.1 / [::1]) without credentials or fragment`,
    }),
  );

const nonEmptyString = () => z.string().check(z.minLength(1), z.maxLength(1024));
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const IssuerConfigSchema = z
  .strictObject({
    issuer: describe(endpointUrl('issuer'), 'Exact `iss` value, compared byte for byte.'),
    jwksUri: describe(
      z.optional(endpointUrl('jwksUri')),
      'Pinned JWKS URL. Absent: OIDC discovery at issuer + /.well-known/openid-configuration.',
    ),
    audience: describe(
      z.optional(
        z.union([nonEmptyString(), z.array(nonEmptyString()).check(z.minLength(1), z.maxLength(32))]),
      ),
      'The token `aud` must contain one of these.',
    ),
    clientIds: describe(
      z.optional(z.array(nonEmptyString()).check(z.minLength(1), z.maxLength(256))),
      'The token client (`client_id`, else `azp`, else `appid`) must be one of these.',
    ),
    algorithms: describe(
      z._default(z.array(z.enum(ASYMMETRIC_ALGORITHMS)).check(z.minLength(1)), ['RS256']),
      'Allowed JWS algorithms (asymmetric only). Default ["RS256"].',
    ),
    tokenType: describe(
      z.optional(nonEmptyString()),
      'Required JWS `typ` header, e.g. "at+jwt" (RFC 9068); case-insensitive, `application/` ignored.',
    ),
    tenantId: describe(
      z.optional(
        z
          .string()
          .check(z.regex(GUID, { message: 'tenantId must be a GUID (the Entra ID directory/tenant id)' })),
      ),
      'Entra ID: the token `tid` must equal this.',
    ),
    clockToleranceSeconds: describe(
      z._default(
        z.number().check(z.int(), z.minimum(0), z.maximum(MAX_CLOCK_TOLERANCE_SECONDS)),
        DEFAULT_CLOCK_TOLERANCE_SECONDS,
      ),
      'Leeway for every time check. Default 30, maximum 300.',
    ),
  })
  .check(
    z.refine((issuer) => issuer.audience !== undefined || issuer.clientIds !== undefined, {
      message: 'set audience or clientIds (or both): a token must be bound to this API or to known clients',
    }),
  );

const scalar = z.union([z.string().check(z.maxLength(1024)), z.number(), z.boolean()]);

const FORBIDDEN_PATH_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

const claimPath = z.string().check(
  z.minLength(1),
  z.maxLength(256),
  z.refine((path) => !path.split('.').some((segment) => FORBIDDEN_PATH_SEGMENTS.has(segment)), {
    message: 'claim paths must not use __proto__, prototype or constructor',
  }),
);

const claimConditionValue = z.union([scalar, z.array(scalar).check(z.minLength(1), z.maxLength(256))]);
const atLeastOneCondition = z.refine<Record<string, unknown>>((claims) => Object.keys(claims).length > 0, {
  message: 'a rule needs at least one claim condition',
});
const claimConditions = z.record(claimPath, claimConditionValue).check(atLeastOneCondition);

const OPERATION_NAME = /^[A-Z][A-Za-z0-9]{1,63}$/;
const datastoreId = () =>
  z.string().check(z.regex(DATASTORE_ID_PATTERN, { message: 'datastore ids are 32 characters of [0-9a-z]' }));

export const RoleRuleSchema = z.strictObject({
  name: describe(
    z.string().check(
      z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, {
        message: 'name must be 1-64 characters of letters, digits, . _ : - (it appears in logs)',
      }),
    ),
    'Unique; appears in logs and explanations.',
  ),
  roleArn: describe(
    z.string().check(
      z.regex(/^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, {
        message: 'roleArn must be arn:aws:iam::<12 digits>:role/<path and name>',
      }),
    ),
    'The IAM role HealthImaging assumes when this rule decides.',
  ),
  claims: describe(
    claimConditions,
    'Claim path → value(s). Every condition must hold; a condition holds when any value matches.',
  ),
  issuer: describe(z.optional(endpointUrl('issuer')), 'Only tokens from this configured issuer.'),
  operations: describe(
    z.optional(
      z
        .array(
          z.string().check(
            z.refine((op) => op === 'read' || op === 'write' || OPERATION_NAME.test(op), {
              message: 'operations are "read", "write" or operation names such as "GetDICOMInstance"',
            }),
          ),
        )
        .check(z.minLength(1)),
    ),
    '"read", "write" or operation names. Default: all known operations.',
  ),
  datastores: describe(z.optional(z.array(datastoreId()).check(z.minLength(1))), 'Only these datastores.'),
});

export const AuthorizerConfigSchema = z
  .strictObject({
    $schema: describe(z.optional(z.string()), 'Editor hint; ignored.'),
    issuers: z.array(IssuerConfigSchema).check(z.minLength(1), z.maxLength(32)),
    rules: describe(
      z.array(RoleRuleSchema).check(z.minLength(1), z.maxLength(512)),
      'Ordered; the first match wins.',
    ),
    datastores: describe(
      z.optional(z.array(datastoreId()).check(z.minLength(1))),
      'Allowlist of datastore ids; others are denied with unknown_datastore.',
    ),
    maxTokenAgeSeconds: describe(
      z._default(
        z.number().check(z.int(), z.minimum(1), z.maximum(MAX_TOKEN_AGE_SECONDS)),
        MAX_TOKEN_AGE_SECONDS,
      ),
      'The iat window. Default and maximum 43200 (12 h, HealthImaging’s own limit).',
    ),
  })
  .check(
    z.superRefine((config, ctx) => {
      const issuers = new Set<string>();
      config.issuers.forEach((issuer, index) => {
        if (issuers.has(issuer.issuer)) {
          ctx.addIssue({
            code: 'custom',
            path: ['issuers', index, 'issuer'],
            message: 'duplicate issuer',
            input: issuer,
          });
        }
        issuers.add(issuer.issuer);
      });
      const names = new Set<string>();
      config.rules.forEach((rule, index) => {
        if (names.has(rule.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'name'],
            message: `duplicate rule name "${rule.name}"`,
            input: rule,
          });
        }
        names.add(rule.name);
        if (rule.issuer !== undefined && !issuers.has(rule.issuer)) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'issuer'],
            message: 'rule issuer is not one of the configured issuers[].issuer',
            input: rule,
          });
        }
      });
    }),
  );

export type AuthorizerConfig = z.output<typeof AuthorizerConfigSchema>;
export type AuthorizerConfigInput = z.input<typeof AuthorizerConfigSchema>;
export type IssuerConfig = AuthorizerConfig['issuers'][number];
export type RoleRule = AuthorizerConfig['rules'][number];
export type ClaimScalar = string | number | boolean;

export interface ConfigIssue {
  /** JSON path such as `$.issuers[0].audience`. */
  path: string;
  message: string;
}

export type ConfigParseResult = { ok: true; config: AuthorizerConfig } | { ok: false; issues: ConfigIssue[] };

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
 * JSON.parse keeps a `__proto__` key as an own property, but zod's record parsing silently drops it,
 * which would make a rule looser than written. Such keys are rejected wherever they appear.
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
  const protoIssues: ConfigIssue[] = [];
  findProtoKeys(value, [], protoIssues);
  if (protoIssues.length > 0) return { ok: false, issues: protoIssues };
  const result = z.safeParse(AuthorizerConfigSchema, value);
  if (result.success) return { ok: true, config: result.data };
  const issues: ConfigIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({
          path: formatJsonPath([...issue.path, key]),
          message: 'unknown key (check for a typo)',
        });
      }
    } else {
      issues.push({ path: formatJsonPath(issue.path), message: issue.message });
    }
  }
  return { ok: false, issues };
}

/** Validates JSON text (a file, an env variable or an SSM value). Never throws. */
export function parseConfigText(text: string): ConfigParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof SyntaxError ? error.message : 'not valid JSON';
    return { ok: false, issues: [{ path: '$', message: `not valid JSON: ${message}` }] };
  }
  return parseConfig(value);
}

export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n');
}

/**
 * The authorizer configuration (a public contract, PRODUCT.md §3): one zod definition gives the
 * TypeScript type, the validation with JSON-path errors, and the published config.schema.json.
 * Secure by default: unknown keys fail, issuer + audience/clientIds are required, only asymmetric
 * algorithms, and the iat window can never exceed HealthImaging's own 12 hours.
 */

import { z } from 'zod';
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

const endpointUrl = (what: string) =>
  z
    .string()
    .min(1)
    .max(2048)
    .refine((v) => v === v.trim() && !/\s/.test(v), { message: `${what} must not contain whitespace` })
    .refine(isAllowedEndpointUrl, {
      message: `${what} must be an https URL (http only for localhost / 127.0.0.1 / [::1]) without credentials or fragment`,
    });

const nonEmptyString = z.string().min(1).max(1024);
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const IssuerConfigSchema = z
  .strictObject({
    issuer: endpointUrl('issuer').describe('Exact `iss` value, compared byte for byte.'),
    jwksUri: endpointUrl('jwksUri')
      .optional()
      .describe('Pinned JWKS URL. Absent: OIDC discovery at issuer + /.well-known/openid-configuration.'),
    audience: z
      .union([nonEmptyString, z.array(nonEmptyString).min(1).max(32)])
      .optional()
      .describe('The token `aud` must contain one of these.'),
    clientIds: z
      .array(nonEmptyString)
      .min(1)
      .max(256)
      .optional()
      .describe('The token client (`client_id`, else `azp`, else `appid`) must be one of these.'),
    algorithms: z
      .array(z.enum(ASYMMETRIC_ALGORITHMS))
      .min(1)
      .default(['RS256'])
      .describe('Allowed JWS algorithms (asymmetric only). Default ["RS256"].'),
    tokenType: nonEmptyString
      .optional()
      .describe(
        'Required JWS `typ` header, e.g. "at+jwt" (RFC 9068); case-insensitive, `application/` ignored.',
      ),
    tenantId: z
      .string()
      .regex(GUID, { message: 'tenantId must be a GUID (the Entra ID directory/tenant id)' })
      .optional()
      .describe('Entra ID: the token `tid` must equal this.'),
    clockToleranceSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_CLOCK_TOLERANCE_SECONDS)
      .default(DEFAULT_CLOCK_TOLERANCE_SECONDS)
      .describe('Leeway for every time check. Default 30, maximum 300.'),
  })
  .refine((issuer) => issuer.audience !== undefined || issuer.clientIds !== undefined, {
    message: 'set audience or clientIds (or both): a token must be bound to this API or to known clients',
  });

const scalar = z.union([z.string().max(1024), z.number(), z.boolean()]);

const FORBIDDEN_PATH_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

const claimPath = z
  .string()
  .min(1)
  .max(256)
  .refine((path) => !path.split('.').some((segment) => FORBIDDEN_PATH_SEGMENTS.has(segment)), {
    message: 'claim paths must not use __proto__, prototype or constructor',
  });

const OPERATION_NAME = /^[A-Z][A-Za-z0-9]{1,63}$/;

export const RoleRuleSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, {
      message: 'name must be 1-64 characters of letters, digits, . _ : - (it appears in logs)',
    })
    .describe('Unique; appears in logs and explanations.'),
  roleArn: z
    .string()
    .regex(/^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, {
      message: 'roleArn must be arn:aws:iam::<12 digits>:role/<path and name>',
    })
    .describe('The IAM role HealthImaging assumes when this rule decides.'),
  claims: z
    .record(claimPath, z.union([scalar, z.array(scalar).min(1).max(256)]))
    .refine((claims) => Object.keys(claims).length > 0, {
      message: 'a rule needs at least one claim condition',
    })
    .describe('Claim path → value(s). Every condition must hold; a condition holds when any value matches.'),
  issuer: endpointUrl('issuer').optional().describe('Only tokens from this configured issuer.'),
  operations: z
    .array(
      z.string().refine((op) => op === 'read' || op === 'write' || OPERATION_NAME.test(op), {
        message: 'operations are "read", "write" or operation names such as "GetDICOMInstance"',
      }),
    )
    .min(1)
    .optional()
    .describe('"read", "write" or operation names. Default: all known operations.'),
  datastores: z
    .array(z.string().regex(DATASTORE_ID_PATTERN, { message: 'datastore ids are 32 characters of [0-9a-z]' }))
    .min(1)
    .optional()
    .describe('Only these datastores.'),
});

export const AuthorizerConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Editor hint; ignored.'),
    issuers: z.array(IssuerConfigSchema).min(1).max(32),
    rules: z.array(RoleRuleSchema).min(1).max(512).describe('Ordered; the first match wins.'),
    datastores: z
      .array(
        z.string().regex(DATASTORE_ID_PATTERN, { message: 'datastore ids are 32 characters of [0-9a-z]' }),
      )
      .min(1)
      .optional()
      .describe('Allowlist of datastore ids; others are denied with unknown_datastore.'),
    maxTokenAgeSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_TOKEN_AGE_SECONDS)
      .default(MAX_TOKEN_AGE_SECONDS)
      .describe('The iat window. Default and maximum 43200 (12 h, HealthImaging’s own limit).'),
  })
  .superRefine((config, ctx) => {
    const issuers = new Set<string>();
    config.issuers.forEach((issuer, index) => {
      if (issuers.has(issuer.issuer)) {
        ctx.addIssue({ code: 'custom', path: ['issuers', index, 'issuer'], message: 'duplicate issuer' });
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
        });
      }
      names.add(rule.name);
      if (rule.issuer !== undefined && !issuers.has(rule.issuer)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index, 'issuer'],
          message: 'rule issuer is not one of the configured issuers[].issuer',
        });
      }
    });
  });

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

/** Validates an already-parsed JSON value. Never throws. */
export function parseConfig(value: unknown): ConfigParseResult {
  const result = AuthorizerConfigSchema.safeParse(value);
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

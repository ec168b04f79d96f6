/**
 * Pure role-rule evaluation (docs/configuration.md, "Matching"): verified claims, issuer,
 * operation and datastore in; the first fully matching rule's role, or `no_role_mapping` /
 * `operation_not_permitted`, out — with a trace of every rule tried and every condition's result,
 * so `explain` can say why a token was denied. No I/O, no clock, no env, never throws on claims.
 */

import type { ClaimScalar, RoleRule } from '../config/schema.ts';
import { operationClass } from '../contract/healthimaging.ts';
import { claimValueSet, lookupClaim } from './lookup-claim.ts';

export interface PolicyInput {
  claims: Readonly<Record<string, unknown>>;
  issuer: string;
  operation: string;
  datastoreId: string;
  rules: readonly RoleRule[];
}

export type ConditionResult = {
  path: string;
  expected: ClaimScalar[];
  holds: boolean;
  found: boolean;
  actualType: 'absent' | 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';
  /** At most 10 values, strings cut to 64 characters: for `explain` only, never logged. */
  actualSample?: ClaimScalar[];
};

export type RuleTrace = {
  rule: string;
  roleArn: string;
  outcome: 'matched' | 'issuer_mismatch' | 'claims_mismatch' | 'operation_mismatch' | 'datastore_mismatch';
  conditions: ConditionResult[];
};

export type PolicyOutcome =
  | { reason: 'allowed'; rule: string; roleArn: string; trace: RuleTrace[] }
  | { reason: 'no_role_mapping' | 'operation_not_permitted'; trace: RuleTrace[] };

const SAMPLE_VALUES = 10;
const SAMPLE_STRING_LENGTH = 64;

function actualTypeOf(value: unknown): Exclude<ConditionResult['actualType'], 'absent'> {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  try {
    return Array.isArray(value) ? 'array' : 'object';
  } catch {
    // A revoked proxy throws even on Array.isArray; it is certainly not a JSON array.
    return 'object';
  }
}

function sampleOf(values: readonly ClaimScalar[]): ClaimScalar[] {
  return values
    .slice(0, SAMPLE_VALUES)
    .map((value) => (typeof value === 'string' ? value.slice(0, SAMPLE_STRING_LENGTH) : value));
}

/**
 * A condition holds when the token's value set and the expected value(s) share an element. `===`
 * on scalars is exact JSON type and value: `1` never equals `"1"`, no case folding, no Unicode
 * normalisation (row 63 of test/security/catalogue.test.ts).
 */
function evaluateCondition(
  claims: Readonly<Record<string, unknown>>,
  path: string,
  condition: ClaimScalar | readonly ClaimScalar[],
): ConditionResult {
  const expected: ClaimScalar[] = typeof condition === 'object' ? [...condition] : [condition];
  const lookup = lookupClaim(claims, path);
  if (!lookup.found) {
    return { path, expected, holds: false, found: false, actualType: 'absent' };
  }
  const actual = claimValueSet(path, lookup.value);
  const holds = actual.some((value) => expected.some((wanted) => wanted === value));
  return {
    path,
    expected,
    holds,
    found: true,
    actualType: actualTypeOf(lookup.value),
    actualSample: sampleOf(actual),
  };
}

/**
 * Whether a rule grants this operation: no `operations` → every one of KNOWN_OPERATIONS (never
 * an unknown one); "read"/"write" → that class; any other entry → that exact operation name, so a
 * rule can name a future operation explicitly without a default failing open.
 */
export function ruleCoversOperation(rule: RoleRule, operation: string): boolean {
  const kind = operationClass(operation);
  if (rule.operations === undefined) return kind !== undefined;
  return rule.operations.some((entry) =>
    entry === 'read' || entry === 'write' ? entry === kind : entry === operation,
  );
}

/** True when some rule lists this exact operation name (not a class): the caller's `unknown_operation` test. */
export function isOperationNamedByRules(rules: readonly RoleRule[], operation: string): boolean {
  if (operation === 'read' || operation === 'write') return false;
  return rules.some((rule) => rule.operations?.includes(operation) === true);
}

function evaluateRule(rule: RoleRule, input: PolicyInput): RuleTrace {
  // Every condition is evaluated, even after one fails or the issuer differs, so the trace is whole.
  const conditions = Object.entries(rule.claims).map(([path, condition]) =>
    evaluateCondition(input.claims, path, condition),
  );
  const trace = (outcome: RuleTrace['outcome']): RuleTrace => ({
    rule: rule.name,
    roleArn: rule.roleArn,
    outcome,
    conditions,
  });
  if (rule.issuer !== undefined && rule.issuer !== input.issuer) return trace('issuer_mismatch');
  if (!conditions.every((condition) => condition.holds)) return trace('claims_mismatch');
  if (!ruleCoversOperation(rule, input.operation)) return trace('operation_mismatch');
  if (rule.datastores !== undefined && !rule.datastores.includes(input.datastoreId)) {
    return trace('datastore_mismatch');
  }
  return trace('matched');
}

/**
 * Rules in order, first full match wins (catalogue row 65); evaluation stops there. Otherwise
 * `operation_not_permitted` when some rule's issuer and claims matched but not its operations or
 * datastores (row 66), else `no_role_mapping`.
 */
export function evaluatePolicy(input: PolicyInput): PolicyOutcome {
  const trace: RuleTrace[] = [];
  for (const rule of input.rules) {
    const result = evaluateRule(rule, input);
    trace.push(result);
    if (result.outcome === 'matched') {
      return { reason: 'allowed', rule: rule.name, roleArn: rule.roleArn, trace };
    }
  }
  const claimsMatchedElsewhere = trace.some(
    (entry) => entry.outcome === 'operation_mismatch' || entry.outcome === 'datastore_mismatch',
  );
  return { reason: claimsMatchedElsewhere ? 'operation_not_permitted' : 'no_role_mapping', trace };
}

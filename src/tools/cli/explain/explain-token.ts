/**
 * The `explain` use case: runs the real authorize() pipeline on a token (once per operation, keys
 * cached after the first) and turns its Decision and policy trace into an ExplainReport for the
 * text and `--json` renderers. It never holds the token, and shows claim values only once the
 * signature verified.
 */

import { type AuthorizeDeps, authorize } from '../../../core/authorize.ts';
import type { Clock } from '../../../core/kernel/clock.ts';
import type { AuthorizerConfig, ClaimScalar, IssuerConfig, RoleRule } from '../../../core/config/schema.ts';
import {
  KNOWN_OPERATIONS,
  operationClass,
  toAuthResult,
  type AuthResult,
} from '../../../core/contract/healthimaging.ts';
import type { Decision, Step } from '../../../core/decision/decision.ts';
import { REASONS, type Reason } from '../../../core/decision/reason-codes.ts';
import { createDeadline } from '../../../core/kernel/deadline.ts';
import type { KeyFetchEvent, KeyStore } from '../../../core/keys/key-store.ts';
import { sanitize } from '../../../core/observability/sanitize.ts';
import type { ConditionResult, RuleTrace } from '../../../core/policy/evaluate-policy.ts';
import { inspectToken } from '../../../core/token/inspect-token.ts';
import { claimCheckFor, describeClaims, markClaimLines } from './describe-claims.ts';
import { formatDuration } from '../shared/format-duration.ts';
import { healthImagingOutcome } from '../shared/healthimaging-outcome.ts';
import { conditionHints, decisionHints, type DecisionHintContext, type Hint } from '../shared/hints.ts';
import { showValue } from '../shared/show-value.ts';
import { tlsHintInput } from '../shared/tls-hints.ts';

export type LineStatus = 'ok' | 'fail' | 'warn' | 'info' | 'skip';

export interface ExplainStep {
  /** format, header, issuer, key, signature, claims, exp, nbf, iat, type, tenant, audience, client, rules, request */
  step: string;
  status: LineStatus;
  text: string;
}

export interface ConditionView {
  path: string;
  expected: ClaimScalar[];
  holds: boolean;
  found: boolean;
  actualType: ConditionResult['actualType'];
  /** At most ten values, strings cut to 64 characters (from the policy trace). */
  actual?: ClaimScalar[];
  hints: Hint[];
}

export interface RuleView {
  rule: string;
  roleArn: string;
  issuer?: string;
  operations?: string[];
  datastores?: string[];
  /** For one operation: the trace outcome. For the all-operations table: whether issuer and claims match. */
  outcome: RuleTrace['outcome'] | 'claims_matched' | 'not_tried';
  conditions: ConditionView[];
}

export interface OperationRow {
  operation: string;
  class: 'read' | 'write';
  decision: 'allow' | 'deny';
  reason: Reason;
  roleArn?: string;
  rule?: string;
  httpStatus: number;
}

export interface ExplainReport {
  /** null: every HealthImaging operation (see `operations`). */
  operation: string | null;
  datastoreId: string;
  datastoreSource: 'option' | 'config' | 'placeholder';
  now: string;
  nowSource: 'system clock' | '--now';
  config: { file: string; version: string };
  /** Shown before verification: the JOSE header facts and the issuer, sanitised. */
  header: { alg?: string; kid?: string; typ?: string };
  iss?: string;
  signatureVerified: boolean;
  /** The token's time claims (epoch seconds), only when the signature verified. */
  times?: { exp?: number; nbf?: number; iat?: number };
  steps: ExplainStep[];
  /** null when the pipeline stopped before the rules. */
  rules: RuleView[] | null;
  decision: 'allow' | 'deny';
  /** The reason code; in the all-operations table, absent when operations differ. */
  reason?: Reason;
  summary: string;
  rule?: string;
  roleArn?: string;
  /** What HealthImaging does with the answer (for one operation). */
  healthImaging?: { status: number; message: string; answer: AuthResult };
  hints: Hint[];
  /** One line: the most likely cause of the denial. */
  why?: string;
  operations?: OperationRow[];
}

export interface ExplainRequest {
  token: string;
  /** Absent: every known operation. */
  operation?: string;
  datastoreId: string;
  datastoreSource: ExplainReport['datastoreSource'];
}

export interface ExplainDeps {
  config: AuthorizerConfig;
  configVersion: string;
  configFile: string;
  keys: KeyStore;
  /** Where an issuer's keys come from (a URL, or the --jwks file). */
  keySource(issuer: IssuerConfig): string;
  /** Fetches the key store made so far (for timings). */
  fetches(): readonly KeyFetchEvent[];
  /** The CA bundle the key store trusts beside the default CAs (--ca-bundle), for hints. */
  caBundleFile?: string;
  now: Clock;
  nowSource: ExplainReport['nowSource'];
  /** The pipeline budget; longer than the Lambda's 800 ms so a slow IdP is reported, not raced. */
  budgetMs?: number;
}

interface Run {
  operation: string;
  decision: Decision;
  trace?: RuleTrace[];
}

const DEFAULT_BUDGET_MS = 10_000;

export async function explainToken(request: ExplainRequest, deps: ExplainDeps): Promise<ExplainReport> {
  const loaded = { config: deps.config, version: deps.configVersion, source: 'file' as const };
  const authorizeDeps: AuthorizeDeps = {
    config: { load: () => Promise.resolve({ ok: true, loaded }) },
    keys: deps.keys,
    now: deps.now,
  };
  const operations = request.operation === undefined ? KNOWN_OPERATIONS : [request.operation];
  const runs: Run[] = [];
  for (const operation of operations) {
    const event = { datastoreId: request.datastoreId, operation, bearerToken: request.token };
    const result = await authorize(event, authorizeDeps, createDeadline(deps.budgetMs ?? DEFAULT_BUDGET_MS));
    runs.push(
      result.policyTrace
        ? { operation, decision: result.decision, trace: result.policyTrace }
        : { operation, decision: result.decision },
    );
  }
  return buildReport(request, deps, runs);
}

function buildReport(request: ExplainRequest, deps: ExplainDeps, runs: readonly Run[]): ExplainReport {
  const nowMs = deps.now();
  const single = request.operation !== undefined;
  // Token-level steps do not depend on the operation; the table's trace comes from the first denied
  // operation (or the first, when every operation is allowed), whose hints are the useful ones.
  const primary = runs.find((run) => run.decision.reason !== 'allowed') ?? runs[0];
  if (primary === undefined) throw new Error('explainToken: no operation evaluated');
  const { decision } = primary;

  const inspected = inspectToken(request.token);
  const header: ExplainReport['header'] = {};
  let unverifiedIss: string | undefined;
  if (inspected.ok) {
    header.alg = sanitize(inspected.token.header.alg, 16) ?? '';
    header.kid = sanitize(inspected.token.header.kid) ?? '';
    const typ = sanitize(inspected.token.header.typ, 32);
    if (typ !== undefined) header.typ = typ;
    unverifiedIss = sanitize(inspected.token.payload['iss'], 256);
  } else {
    // A refused header still shows what it carried (sanitized), so the refusal can be read against it.
    const seen = inspected.seen ?? {};
    const alg = inspected.alg ?? seen.alg;
    if (alg !== undefined) header.alg = sanitize(alg, 16) ?? '';
    const kid = sanitize(inspected.kid ?? seen.kid);
    if (kid !== undefined) header.kid = kid;
    if (seen.typ !== undefined) header.typ = seen.typ;
  }
  const signatureVerified = decision.steps.some((step) => step.step === 'signature' && step.ok);
  // The one gate for claim values: none is shown unless the signature verified.
  const claims = signatureVerified && inspected.ok ? inspected.token.payload : undefined;
  const issuerIndex = deps.config.issuers.findIndex((issuer) => issuer.issuer === unverifiedIss);
  const issuer = issuerIndex >= 0 ? deps.config.issuers[issuerIndex] : undefined;

  const steps = buildSteps(decision.steps, {
    reason: decision.reason,
    header,
    iss: unverifiedIss,
    issuerIndex,
    issuer,
    claims,
    deps,
    nowMs,
    roleArn: decision.roleArn,
    rule: decision.rule,
    single,
  });

  const traces = runs.flatMap((run) => run.trace ?? []);
  const rules =
    claims === undefined || traces.length === 0
      ? null
      : buildRuleViews(deps.config.rules, runs, claims, single);

  const failing = [...decision.steps].reverse().find((step) => !step.ok);
  const failedStep = failing?.detail ?? '';
  const hintContext: DecisionHintContext = {
    reason: decision.reason,
    detail: failedStep,
    config: deps.config,
    configFile: deps.configFile,
    header,
    nowMs,
    operation: primary.operation,
    datastoreId: request.datastoreId,
    claimMatchedRules: claimMatchedRules(deps.config.rules, primary.trace ?? []),
  };
  if (unverifiedIss !== undefined) hintContext.iss = unverifiedIss;
  if (issuer !== undefined) {
    hintContext.issuer = issuer;
    hintContext.keys = {
      source: deps.keySource(issuer),
      kids: deps.keys.snapshot(issuer).kids.map((kid) => sanitize(kid) ?? ''),
    };
  }
  if (claims !== undefined) hintContext.claims = claims;
  const tls = issuer === undefined ? undefined : lastTlsFailure(deps, issuer);
  if (tls !== undefined) hintContext.tls = tls;
  const hints = decision.reason === 'allowed' ? [] : decisionHints(hintContext);

  const report: ExplainReport = {
    operation: request.operation ?? null,
    datastoreId: request.datastoreId,
    datastoreSource: request.datastoreSource,
    now: new Date(nowMs).toISOString(),
    nowSource: deps.nowSource,
    config: { file: deps.configFile, version: deps.configVersion },
    header,
    signatureVerified,
    steps,
    rules,
    decision: 'deny',
    summary: '',
    hints,
  };
  if (unverifiedIss !== undefined) report.iss = unverifiedIss;
  if (claims !== undefined) {
    const times: NonNullable<ExplainReport['times']> = {};
    for (const name of ['exp', 'nbf', 'iat'] as const) {
      const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
      if (typeof value === 'number') times[name] = value;
    }
    report.times = times;
  }

  if (single) {
    const answer = toAuthResult(decision.reason, decision.roleArn);
    const outcome = healthImagingOutcome(answer);
    report.decision = decision.reason === 'allowed' ? 'allow' : 'deny';
    report.reason = decision.reason;
    report.summary = REASONS[decision.reason].summary;
    if (decision.rule !== undefined && decision.reason === 'allowed') report.rule = decision.rule;
    if (decision.roleArn !== undefined) report.roleArn = decision.roleArn;
    report.healthImaging = { status: outcome.status, message: outcome.message, answer };
  } else {
    report.operations = runs.map(operationRow);
    const allowed = report.operations.filter((row) => row.decision === 'allow');
    const reasons = new Set(report.operations.map((row) => row.reason));
    const [only] = reasons;
    report.decision = allowed.length > 0 ? 'allow' : 'deny';
    if (reasons.size === 1 && only !== undefined) report.reason = only;
    const rulesLine = steps.find((line) => line.step === 'rules');
    if (rulesLine !== undefined && rulesLine.status !== 'skip') {
      rulesLine.status = allowed.length === runs.length ? 'ok' : allowed.length === 0 ? 'fail' : 'warn';
      rulesLine.text = `allowed for ${allowed.length} of ${runs.length} operations: see the rules and the table below`;
    }
    report.summary =
      allowed.length === runs.length
        ? 'allowed for every operation'
        : allowed.length === 0
          ? 'denied for every operation'
          : `allowed for ${allowed.length} of ${runs.length} operations`;
  }
  // In the table, say which operations the cause is about, unless it is all of them.
  const sameCause = runs.filter((run) => run.decision.reason === decision.reason).map((run) => run.operation);
  const prefix = single || sameCause.length === runs.length ? '' : `${sameCause.join(', ')}: `;
  const why = whyLine(decision, prefix, rules, hints);
  if (why !== undefined) report.why = why;
  return report;
}

interface StepContext {
  reason: Reason;
  header: ExplainReport['header'];
  iss: string | undefined;
  issuerIndex: number;
  issuer: IssuerConfig | undefined;
  claims: Readonly<Record<string, unknown>> | undefined;
  deps: ExplainDeps;
  nowMs: number;
  roleArn: string | undefined;
  rule: string | undefined;
  single: boolean;
}

const STAGES = ['format', 'header', 'issuer', 'key', 'signature', 'claims', 'rules'] as const;

function headerText(header: ExplainReport['header']): string {
  const parts = [`alg ${showValue(header.alg)}`, `kid ${showValue(header.kid)}`];
  parts.push(header.typ === undefined ? 'no typ' : `typ ${showValue(header.typ)}`);
  return parts.join(' · ');
}

/** The issuer's last fetch, when it failed in TLS: its cause for the hint. */
function lastTlsFailure(deps: ExplainDeps, issuer: IssuerConfig): DecisionHintContext['tls'] {
  const last = deps
    .fetches()
    .filter((event) => event.issuer === issuer.issuer)
    .at(-1);
  if (last?.outcome !== 'tls' || last.tlsCause === undefined) return undefined;
  return tlsHintInput(last.tlsCause, last.tlsCode, deps.caBundleFile);
}

function keyTimings(deps: ExplainDeps, issuer: IssuerConfig): string {
  const fetched = deps
    .fetches()
    .filter((event) => event.issuer === issuer.issuer)
    .map(
      (event) =>
        `${event.kind} ${event.outcome === 'ok' ? '' : `${event.outcome}${event.tlsCause === undefined ? '' : ` ${event.tlsCause}`} `}${formatDuration(event.ms)}`,
    );
  return fetched.length === 0 ? '' : ` (fetched: ${fetched.join(', ')})`;
}

function buildSteps(decisionSteps: readonly Step[], ctx: StepContext): ExplainStep[] {
  const lines: ExplainStep[] = [];
  const put = (line: ExplainStep) => {
    const at = lines.findIndex((existing) => existing.step === line.step);
    if (at >= 0) lines[at] = line;
    else lines.push(line);
  };
  const keySource = ctx.issuer === undefined ? "the issuer's JWKS" : ctx.deps.keySource(ctx.issuer);

  for (const step of decisionSteps) {
    const status: LineStatus = step.ok ? 'ok' : 'fail';
    switch (step.step) {
      case 'request':
      case 'config':
        if (!step.ok) put({ step: step.step, status, text: step.detail });
        break;
      case 'format':
        put({ step: 'format', status, text: step.ok ? 'compact JWS within the size cap' : step.detail });
        break;
      case 'header':
        put({
          step: 'header',
          status,
          text: step.ok ? headerText(ctx.header) : `${step.detail} (${headerText(ctx.header)})`,
        });
        break;
      case 'issuer':
        put({
          step: 'issuer',
          status,
          text: step.ok
            ? `${ctx.iss ?? ''} (issuers[${ctx.issuerIndex}])`
            : ctx.iss === undefined
              ? step.detail
              : `${showValue(ctx.iss)} is not a configured issuer (compared byte for byte)`,
        });
        break;
      case 'key':
        put({
          step: 'key',
          status,
          text: step.ok
            ? `kid ${showValue(ctx.header.kid)} found in ${keySource}${ctx.issuer ? keyTimings(ctx.deps, ctx.issuer) : ''}`
            : `${step.detail} — kid ${showValue(ctx.header.kid)}, keys from ${keySource}${ctx.issuer ? keyTimings(ctx.deps, ctx.issuer) : ''}`,
        });
        break;
      case 'signature':
        put({
          step: 'signature',
          status,
          text: step.ok ? `${ctx.header.alg ?? ''} signature verified` : step.detail,
        });
        break;
      case 'claims': {
        if (ctx.claims === undefined || ctx.issuer === undefined) {
          put({ step: 'claims', status, text: step.detail });
          break;
        }
        const described = describeClaims(ctx.claims, ctx.issuer, ctx.deps.config, ctx.nowMs);
        // A failed claims step is the Decision's last step, so its reason is the Decision's reason.
        const marked = markClaimLines(
          described,
          step.ok ? undefined : { check: claimCheckFor(ctx.reason, step.detail), detail: step.detail },
        );
        for (const line of marked) put({ step: line.check, status: line.status, text: line.text });
        break;
      }
      case 'policy':
        put({
          step: 'rules',
          status,
          text: step.ok
            ? `rule ${ctx.rule ?? ''} matched → ${ctx.roleArn ?? ''}`
            : ctx.single
              ? step.detail
              : 'see the rules and the operation table below',
        });
        break;
      default: {
        const unreachable: never = step.step;
        return unreachable;
      }
    }
  }
  if (lines.some((line) => line.status === 'fail')) {
    const reached = new Set(lines.map((line) => line.step));
    const claimsShown = ['exp', 'claims'].some((name) => reached.has(name));
    for (const stage of STAGES) {
      if (reached.has(stage) || (stage === 'claims' && claimsShown)) continue;
      if (lines.some((line) => line.step === 'request' && line.status === 'fail')) break;
      lines.push({
        step: stage,
        status: 'skip',
        text:
          stage === 'claims'
            ? 'not reached (claims are shown only after the signature verified)'
            : 'not reached',
      });
    }
  }
  return lines;
}

function conditionView(
  condition: ConditionResult,
  claims: Readonly<Record<string, unknown>>,
  withHints: boolean,
): ConditionView {
  const view: ConditionView = {
    path: condition.path,
    expected: [...condition.expected],
    holds: condition.holds,
    found: condition.found,
    actualType: condition.actualType,
    // A rule for another issuer does not apply: hints on its conditions would only mislead.
    hints: withHints ? conditionHints({ condition, claims }) : [],
  };
  if (condition.actualSample !== undefined) view.actual = [...condition.actualSample];
  return view;
}

function buildRuleViews(
  rules: readonly RoleRule[],
  runs: readonly Run[],
  claims: Readonly<Record<string, unknown>>,
  single: boolean,
): RuleView[] {
  return rules.map((rule) => {
    const traced = runs.flatMap((run) => run.trace ?? []).filter((trace) => trace.rule === rule.name);
    const first = traced[0];
    const view: RuleView = {
      rule: rule.name,
      roleArn: rule.roleArn,
      outcome: 'not_tried',
      conditions:
        first === undefined
          ? []
          : first.conditions.map((condition) =>
              conditionView(condition, claims, first.outcome !== 'issuer_mismatch'),
            ),
    };
    if (rule.issuer !== undefined) view.issuer = rule.issuer;
    if (rule.operations !== undefined) view.operations = [...rule.operations];
    if (rule.datastores !== undefined) view.datastores = [...rule.datastores];
    if (first !== undefined) {
      if (single) view.outcome = first.outcome;
      else if (first.outcome === 'issuer_mismatch' || first.outcome === 'claims_mismatch')
        view.outcome = first.outcome;
      else view.outcome = 'claims_matched';
    }
    return view;
  });
}

function claimMatchedRules(rules: readonly RoleRule[], trace: readonly RuleTrace[]) {
  return trace
    .filter((entry) => entry.outcome === 'operation_mismatch' || entry.outcome === 'datastore_mismatch')
    .map((entry) => {
      const rule = rules.find((candidate) => candidate.name === entry.rule);
      return {
        rule: entry.rule,
        ...(rule?.operations === undefined ? {} : { operations: rule.operations }),
        ...(rule?.datastores === undefined ? {} : { datastores: rule.datastores }),
      };
    });
}

function operationRow(run: Run): OperationRow {
  const answer = toAuthResult(run.decision.reason, run.decision.roleArn);
  const row: OperationRow = {
    operation: run.operation,
    class: operationClass(run.operation) ?? 'read',
    decision: run.decision.reason === 'allowed' ? 'allow' : 'deny',
    reason: run.decision.reason,
    httpStatus: healthImagingOutcome(answer).status,
  };
  if (run.decision.reason === 'allowed') {
    if (run.decision.roleArn !== undefined) row.roleArn = run.decision.roleArn;
    if (run.decision.rule !== undefined) row.rule = run.decision.rule;
  }
  return row;
}

function describeCondition(condition: ConditionView): string {
  if (!condition.found) return `claim ${condition.path} missing`;
  return `claim ${condition.path} is ${showValue(condition.actual ?? [])}, not ${condition.expected.map((value) => showValue(value)).join(' or ')}`;
}

/** The most likely cause, in one line. */
function whyLine(
  decision: Decision,
  prefix: string,
  rules: readonly RuleView[] | null,
  hints: readonly Hint[],
): string | undefined {
  if (decision.reason === 'allowed') return undefined;
  if (decision.reason === 'no_role_mapping' && rules !== null) {
    // The rule closest to matching: one written for this token's issuer first, then the most of
    // its conditions holding (ties: the first in order).
    const candidates = rules.filter(
      (rule) => rule.outcome === 'claims_mismatch' && rule.conditions.length > 0,
    );
    let best: RuleView | undefined;
    let bestScore = -1;
    for (const rule of candidates) {
      const forThisIssuer = rule.issuer !== undefined && rule.issuer === decision.iss ? 1 : 0;
      const score =
        forThisIssuer +
        rule.conditions.filter((condition) => condition.holds).length / rule.conditions.length;
      if (score > bestScore) {
        best = rule;
        bestScore = score;
      }
    }
    const failed = best?.conditions.find((condition) => !condition.holds);
    if (best !== undefined && failed !== undefined) {
      const hint = failed.hints[0]?.text;
      return `${prefix}rule ${best.rule}: ${describeCondition(failed)}${hint === undefined ? '' : `; ${hint}`}`;
    }
    if (rules.every((rule) => rule.outcome === 'issuer_mismatch')) {
      return `${prefix}every rule names another issuer than ${decision.iss ?? 'this token'}`;
    }
  }
  const hint = hints[0]?.text;
  const detail = [...decision.steps].reverse().find((step) => !step.ok)?.detail;
  return `${prefix}${decision.reason}: ${hint ?? detail ?? REASONS[decision.reason].summary}`;
}

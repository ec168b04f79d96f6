/**
 * The use case: an untrusted HealthImaging event + deps → one Decision. Checks run in the order of
 * docs/reason-codes.md, cheapest first, and an unknown issuer never causes network I/O. Expected
 * failures are values; anything thrown becomes `internal_error`, a budget overrun `deadline_exceeded`.
 * What the stages share (clock, deadline, Result, limits) is in src/core/kernel/.
 */

import type { CryptoKey } from 'jose';
import type { Clock } from './kernel/clock.ts';
import type { ConfigState } from './config/config-loader.ts';
import type { AuthorizerConfig, IssuerConfig } from './config/schema.ts';
import { isKnownOperation, parseEvent } from './contract/healthimaging.ts';
import type { Decision, Step, StepName } from './decision/decision.ts';
import type { Reason } from './decision/reason-codes.ts';
import type { Deadline } from './kernel/deadline.ts';
import { MAX_TOKEN_LENGTH } from './kernel/limits.ts';
import type { Result } from './kernel/result.ts';
import type { KeyLookupResult, KeyStore } from './keys/key-store.ts';
import { sanitize } from './observability/sanitize.ts';
import { evaluatePolicy, isOperationNamedByRules, type RuleTrace } from './policy/evaluate-policy.ts';
import { checkHeaderForIssuer } from './token/check-header-for-issuer.ts';
import { inspectToken, type JoseHeaderFacts } from './token/inspect-token.ts';
import { claimsKeptFor, pruneClaims } from './token/prune-claims.ts';
import { validateClaims } from './token/validate-claims.ts';
import type { VerifiedTokenCache } from './token/verified-token-cache.ts';
import { type KeyRefusal, verifySignature } from './token/verify-signature.ts';

export interface AuthorizeDeps {
  config: { load(signal: AbortSignal): Promise<ConfigState>; peek?(): ConfigState | undefined };
  keys: KeyStore;
  now: Clock;
  /**
   * Role ARNs the deployment allows this function to return (set by the stack, not by the config
   * value). Absent: every configured role may be returned.
   */
  roleAllowlist?: ReadonlySet<string>;
  /** Warm cache of tokens whose signature and claims verified (the Lambda has one; `explain` does not). */
  tokenCache?: VerifiedTokenCache;
}

/** Time kept back from each awaited step so a denial can still be logged and returned. */
const ANSWER_RESERVE_MS = 25;

export interface AuthorizeResult {
  decision: Decision;
  /** The policy trace, for `explain` only (it may hold claim values: never logged). */
  policyTrace?: RuleTrace[];
}

/**
 * Runs the whole pipeline; never throws (nor rejects), never outlives the deadline.
 * The pipeline runs synchronously as far as the warm caches take it: a repeated token (verified-token
 * cache) with a cached configuration is decided without a timer or any await. Only when it must wait
 * (configuration load, key lookup that may fetch, the signature check, which jose runs through
 * WebCrypto and so awaits) is the rest raced against the deadline; a timer could not interrupt
 * synchronous code anyway.
 */
export function authorize(event: unknown, deps: AuthorizeDeps, deadline: Deadline): Promise<AuthorizeResult> {
  const trail = new Trail();
  const unexpected = () => trail.finish('internal_error', 'request', 'unexpected error (details withheld)');
  let outcome: Pending<AuthorizeResult>;
  try {
    outcome = runPipeline(event, deps, deadline, trail);
  } catch {
    return Promise.resolve(unexpected());
  }
  if (!(outcome instanceof Promise)) return Promise.resolve(outcome);
  return deadline.race(
    outcome,
    () => trail.finish('deadline_exceeded', trail.currentStep, 'the internal time budget ran out', true),
    unexpected,
  );
}

/** A value now, or later when the step had to wait. */
type Pending<T> = T | Promise<T>;

const issuersByConfig = new WeakMap<AuthorizerConfig, ReadonlyMap<string, IssuerConfig>>();

/**
 * The configured issuer with exactly this name (the first, as a linear search would find it), from a
 * map built once per configuration.
 */
function issuerNamed(config: AuthorizerConfig, iss: string): IssuerConfig | undefined {
  let byName = issuersByConfig.get(config);
  if (byName === undefined) {
    const map = new Map<string, IssuerConfig>();
    for (const issuer of config.issuers) if (!map.has(issuer.issuer)) map.set(issuer.issuer, issuer);
    byName = map;
    issuersByConfig.set(config, byName);
  }
  return byName.get(iss);
}

/** Collects the steps and facts as the pipeline advances. */
class Trail {
  /** Filled in as the pipeline advances; the reason stays fail-closed until a conclusion sets it. */
  readonly decision: Decision = { reason: 'internal_error', steps: [] };
  policyTrace: RuleTrace[] | undefined;
  currentStep: StepName = 'request';
  private finished: AuthorizeResult | undefined;

  pass(step: StepName, detail: string): void {
    if (this.finished) return; // a late pipeline after a deadline answer records nothing more
    this.decision.steps.push({ step, ok: true, detail });
    this.currentStep = step;
  }

  /**
   * The one place a decision gets its step: each caller names it where the decision is made (a step
   * literal, the step a stage's refusal carries, or the step reached when time ran out), never from
   * the reason's spelling. The first conclusion wins (a late pipeline result after a deadline answer
   * is ignored). A deadline answer (`detach`) leaves the pipeline running, so it hands out a copy the
   * pipeline cannot change; any other conclusion is the pipeline's last word and hands out the record
   * itself.
   */
  finish(reason: Reason, step: StepName, detail: string, detach = false): AuthorizeResult {
    if (this.finished) return this.finished;
    const steps: Step[] = detach ? [...this.decision.steps] : this.decision.steps;
    if (reason !== 'allowed') steps.push({ step, ok: false, detail });
    const decision: Decision = detach ? { ...this.decision, steps, reason } : this.decision;
    decision.reason = reason;
    this.finished = this.policyTrace ? { decision, policyTrace: this.policyTrace } : { decision };
    return this.finished;
  }
}

function runPipeline(
  event: unknown,
  deps: AuthorizeDeps,
  deadline: Deadline,
  trail: Trail,
): Pending<AuthorizeResult> {
  const d = trail.decision;

  // 1. The event (AHI contract): shape only, no normalisation of the token.
  const parsed = parseEvent(event);
  if (!parsed.ok) {
    if (parsed.datastoreId !== undefined) d.datastoreId = parsed.datastoreId;
    if (parsed.operation !== undefined) d.operation = parsed.operation;
    return trail.finish(parsed.reason, 'request', parsed.detail);
  }
  const request = parsed.request;
  d.datastoreId = request.datastoreId;
  d.operation = request.operation;
  trail.pass('request', 'HealthImaging event shape');

  // 2. Configuration (cached; SSM refresh bounded by the deadline).
  const cached = deps.config.peek?.();
  if (cached) return withConfig(cached, request, deps, deadline, trail);
  return deps.config
    .load(deadline.child(ANSWER_RESERVE_MS))
    .then((state) => withConfig(state, request, deps, deadline, trail));
}

/** Steps 2-5 once the configuration is known. */
function withConfig(
  state: ConfigState,
  request: AuthorizeRequest,
  deps: AuthorizeDeps,
  deadline: Deadline,
  trail: Trail,
): Pending<AuthorizeResult> {
  const d = trail.decision;
  const { datastoreId, operation, bearerToken } = request;
  if (!state.ok) return trail.finish(state.reason, 'config', state.detail);
  const config: AuthorizerConfig = state.loaded.config;
  d.configVersion = state.loaded.version;
  trail.pass('config', `configuration ${state.loaded.version} from ${state.loaded.source}`);

  if (config.datastores && !config.datastores.includes(datastoreId)) {
    return trail.finish('unknown_datastore', 'request', 'datastoreId is not in the configured datastores');
  }
  if (!isKnownOperation(operation) && !isOperationNamedByRules(config.rules, operation)) {
    return trail.finish(
      'unknown_operation',
      'request',
      'operation is not a HealthImaging DICOMweb operation',
    );
  }

  // 3. A token whose exact bytes verified earlier skips parse, key and signature (not the claims).
  const cache = deps.tokenCache;
  const cacheKey = cache && bearerToken.length <= MAX_TOKEN_LENGTH ? cache.keyOf(bearerToken) : undefined;
  // The issuer the cache entry names, resolved once: get() binds a hit to that issuer's key set.
  let bound: IssuerConfig | undefined;
  const hit =
    cache && cacheKey !== undefined
      ? cache.get(cacheKey, {
          configVersion: state.loaded.version,
          keySetGeneration: (iss) => {
            bound = issuerNamed(config, iss);
            return bound && deps.keys.keySetGeneration(bound);
          },
        })
      : undefined;
  if (hit) {
    const issuerConfig = bound?.issuer === hit.issuer ? bound : issuerNamed(config, hit.issuer);
    if (!issuerConfig) return trail.finish('issuer_invalid', 'issuer', 'iss is not a configured issuer');
    d.tokenCache = 'hit';
    d.alg = hit.header.alg;
    const kid = sanitize(hit.header.kid);
    if (kid !== undefined) d.kid = kid;
    d.iss = issuerConfig.issuer;
    trail.pass('signature', 'verified earlier: the same token bytes (verified-token cache)');
    return decideVerified(
      { issuer: issuerConfig, header: hit.header, payload: hit.payload },
      request,
      state.loaded.version,
      config,
      deps,
      trail,
    );
  }
  if (cache) d.tokenCache = 'miss';
  return verifyToken(bearerToken, request, config, deps, deadline, trail).then((outcome) =>
    'issuer' in outcome
      ? decideVerified(outcome, request, state.loaded.version, config, deps, trail, cacheKey)
      : outcome,
  );
}

/** Steps 4-5 for a token whose signature verified (now, or earlier: verified-token cache). */
function decideVerified(
  verified: VerifiedSignature,
  request: AuthorizeRequest,
  configVersion: string,
  config: AuthorizerConfig,
  deps: AuthorizeDeps,
  trail: Trail,
  cacheKey?: string,
): AuthorizeResult {
  const d = trail.decision;
  const { issuer, header, payload, keySetGeneration } = verified;
  const checked = verified.checked ?? checkClaimsAndPolicy(payload, issuer, request, config, deps);

  // 4. Claims, against the injected clock (also for cached tokens).
  if (!checked.ok) return trail.finish(checked.claims.reason, 'claims', checked.claims.detail);
  const { claims, outcome } = checked;
  d.verified = claims.facts;
  if (deps.tokenCache && cacheKey !== undefined && keySetGeneration !== undefined) {
    // Only now: signature and claims both passed. Bound to the key set that verified it.
    deps.tokenCache.set(
      cacheKey,
      {
        issuer: issuer.issuer,
        header,
        payload: pruneClaims(payload, claimsKeptFor(config)),
        configVersion,
        keySetGeneration,
      },
      claims.facts.exp,
    );
  }
  trail.pass('claims', 'time claims, token type, tenant, audience and client accepted');

  // 5. Policy: pure first-match evaluation (per request: operation and datastore differ).
  trail.policyTrace = outcome.trace;
  if (outcome.reason !== 'allowed') {
    return trail.finish(
      outcome.reason,
      'policy',
      outcome.reason === 'no_role_mapping'
        ? "no rule's claims match this token"
        : "a rule's claims match, but not for this operation or datastore",
    );
  }
  if (deps.roleAllowlist && !deps.roleAllowlist.has(outcome.roleArn)) {
    // A tampered configuration value must not hand out a role the deployment did not allow.
    d.rule = outcome.rule;
    return trail.finish(
      'internal_error',
      'policy',
      `rule ${outcome.rule} names a role outside the deployment allowlist`,
    );
  }
  d.rule = outcome.rule;
  d.roleArn = outcome.roleArn;
  trail.pass('policy', `rule ${outcome.rule} matched`);
  return trail.finish('allowed', 'policy', '');
}

type AuthorizeRequest = { datastoreId: string; operation: string; bearerToken: string };

type ClaimsResult = ReturnType<typeof validateClaims>;
/** Steps 4 and 5 computed; the policy is not evaluated when the claims fail. */
type Checked = Result<
  { claims: Extract<ClaimsResult, { ok: true }>; outcome: ReturnType<typeof evaluatePolicy> },
  { claims: Extract<ClaimsResult, { ok: false }> }
>;

/**
 * Steps 4 and 5 as pure computations over the payload (no I/O, the injected clock); decideVerified
 * records their outcome in pipeline order, and only for a token whose signature verified.
 */
function checkClaimsAndPolicy(
  payload: Readonly<Record<string, unknown>>,
  issuer: IssuerConfig,
  request: AuthorizeRequest,
  config: AuthorizerConfig,
  deps: AuthorizeDeps,
): Checked {
  const claims = validateClaims(payload, issuer, {
    nowMs: deps.now(),
    maxTokenAgeSeconds: config.maxTokenAgeSeconds,
  });
  if (!claims.ok) return { ok: false, claims };
  const outcome = evaluatePolicy({
    claims: payload,
    issuer: issuer.issuer,
    operation: request.operation,
    datastoreId: request.datastoreId,
    rules: config.rules,
  });
  return { ok: true, claims, outcome };
}

/**
 * Runs `fn` in the next turn of the event loop, after the microtasks queued so far: by then jose has
 * handed a warm-key signature check to WebCrypto, which runs it on libuv's thread pool.
 */
const nextTurn = <T>(fn: () => T): Promise<T> =>
  new Promise((resolve, reject) =>
    setImmediate(() => {
      try {
        resolve(fn());
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes fn's own rejection on unchanged
        reject(error);
      }
    }),
  );

interface VerifiedSignature {
  issuer: IssuerConfig;
  header: JoseHeaderFacts;
  payload: Readonly<Record<string, unknown>>;
  /** The key set that verified it (absent for a cache hit: never re-inserted). */
  keySetGeneration?: number;
  /** Claims and policy, computed while the signature was being checked (not for a cache hit). */
  checked?: Checked;
}

/** Steps 3-6 for a token not seen before: size, grammar, header, issuer, key, signature. */
async function verifyToken(
  bearerToken: string,
  request: AuthorizeRequest,
  config: AuthorizerConfig,
  deps: AuthorizeDeps,
  deadline: Deadline,
  trail: Trail,
): Promise<VerifiedSignature | AuthorizeResult> {
  const d = trail.decision;
  // Size cap, strict compact-JWS grammar, header, unverified payload (no I/O, no crypto).
  const inspected = inspectToken(bearerToken);
  if (!inspected.ok) {
    if (inspected.alg !== undefined) d.alg = inspected.alg;
    const kid = sanitize(inspected.kid);
    if (kid !== undefined) d.kid = kid;
    return trail.finish(inspected.reason, inspected.step, inspected.detail);
  }
  const { header, payload } = inspected.token;
  d.alg = header.alg;
  const kid = sanitize(header.kid);
  if (kid !== undefined) d.kid = kid;
  trail.pass('format', 'compact JWS, three canonical base64url segments, within the size cap');
  trail.pass(
    'header',
    `alg ${header.alg}, kid present${typeof header.typ === 'string' ? `, typ ${sanitize(header.typ, 32)}` : ''}`,
  );

  // Issuer pre-selected by exact match: an unknown issuer never causes network I/O.
  const iss = Object.hasOwn(payload, 'iss') ? payload['iss'] : undefined;
  const issuer = typeof iss === 'string' ? issuerNamed(config, iss) : undefined;
  if (!issuer) {
    const shownIss = sanitize(iss, 256);
    if (shownIss !== undefined) d.iss = shownIss;
    return trail.finish(
      'issuer_invalid',
      'issuer',
      typeof iss === 'string'
        ? 'iss is not a configured issuer (compared byte for byte)'
        : 'iss is absent or not a string',
    );
  }
  d.iss = issuer.issuer;
  const headerCheck = checkHeaderForIssuer(header, issuer);
  if (!headerCheck.ok) return trail.finish(headerCheck.reason, 'header', headerCheck.detail);
  trail.pass('issuer', `configured issuer ${issuer.issuer}`);

  // Signature by jose, with the key resolved from the warm key store (bounded refetch,
  // deadline-bounded fetch); the lookup's cache state goes into the decision either way.
  let keySetGeneration: number | undefined;
  const onKey = (key: KeyLookupResult): CryptoKey | KeyRefusal => {
    d.keys =
      key.keysAgeMs === undefined
        ? { cacheState: key.cacheState }
        : { cacheState: key.cacheState, keysAgeMs: key.keysAgeMs };
    if (!key.ok) return key;
    keySetGeneration = key.keySetGeneration;
    trail.pass('key', `key found in the issuer's JWKS (cache ${key.cacheState})`);
    return key.key;
  };
  const signatureCheck = verifySignature(bearerToken, header.alg, (kid, alg) => {
    const warm = deps.keys.peekKey({ issuer, kid, alg });
    return warm === undefined ? deps.keys.getKey({ issuer, kid, alg, deadline }).then(onKey) : onKey(warm);
  });
  // The claims and the policy need only the payload inspectToken parsed: they are computed while the
  // signature check waits on the thread pool, and count only once the signature verified (a forged
  // token is signature_invalid whatever its claims say).
  const [signature, checked] = await Promise.all([
    signatureCheck,
    nextTurn(() => checkClaimsAndPolicy(payload, issuer, request, config, deps)),
  ]);
  if (!signature.ok) return trail.finish(signature.reason, signature.step, signature.detail);
  trail.pass('signature', `${header.alg} signature verified (jose)`);
  return { issuer, header, payload, checked, ...(keySetGeneration !== undefined && { keySetGeneration }) };
}

/**
 * The configuration lint that needs no network: rules that can never match or decide (an earlier
 * rule shadows them), operations HealthImaging does not have, issuers no rule reaches, and issuer
 * settings that deny every token of a known IdP. `ahi-authorizer check` prints it; `cdk synth` runs
 * it too (infra/check-authorizer-config.ts).
 */

import {
  type AuthorizerConfig,
  formatJsonPath,
  type IssuerConfig,
  type RoleRule,
} from '../../../core/config/schema.ts';
import { isKnownOperation, KNOWN_OPERATIONS, operationClass } from '../../../core/contract/healthimaging.ts';
import { entraIssuer } from '../shared/hints.ts';
import { showValue } from '../shared/show-value.ts';

export type Severity = 'ok' | 'problem' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** What the finding is about: discovery, jwks, keys, algorithms, a rule name … */
  subject: string;
  message: string;
  hints: string[];
  /**
   * Where in the configuration, as a JSON path (`$.issuers[0].tokenType`, `$.rules[1]`): set on the
   * findings of the configuration itself, not on those of a network probe or the CA bundle.
   */
  path?: string;
}

/** Every finding for a configuration: each issuer's static checks, then the rules. */
export function lintConfig(config: AuthorizerConfig, allowedRoles?: ReadonlySet<string>): Finding[] {
  return [
    ...config.issuers.flatMap((issuer, index) => lintIssuer(issuer, config, index)),
    ...lintRules(config, allowedRoles),
  ];
}

/**
 * Static checks of one issuer (`config.issuers[index]`): settings that would deny every token of
 * its IdP, and reachability. Each finding's path names the issuer's key (`$.issuers[0].tokenType`).
 */
export function lintIssuer(issuer: IssuerConfig, config: AuthorizerConfig, index: number): Finding[] {
  const findings: Finding[] = [];
  /** `key` is the path below the issuer (`['tokenType']`), empty for the issuer as a whole. */
  const find = (severity: Severity, subject: string, message: string, hints: string[], key: PropertyKey[]) =>
    findings.push({ severity, subject, message, hints, path: formatJsonPath(['issuers', index, ...key]) });

  const entra =
    entraIssuer(issuer.issuer) ??
    /^https:\/\/(login\.microsoftonline\.com|sts\.windows\.net)\//.test(issuer.issuer);
  if (entra && issuer.tokenType !== undefined && /^(application\/)?at\+jwt$/i.test(issuer.tokenType)) {
    find(
      'problem',
      'tokenType',
      `tokenType ${showValue(issuer.tokenType)} on an Entra ID issuer`,
      [
        'Entra ID access tokens carry typ "JWT", so every token would be denied with typ_invalid: remove tokenType',
      ],
      ['tokenType'],
    );
  }

  // An opt-in that lets ID tokens through deserves a second look (docs/idp/*.md: none of the
  // documented IdPs needs it when it issues access tokens for the API).
  if (issuer.acceptIdTokens === true) {
    find(
      'warning',
      'acceptIdTokens',
      'acceptIdTokens: ID tokens are accepted as access tokens',
      [
        'an ID token is meant for the client, not for an API (OpenID Connect Core §2): set this only for an IdP that issues no access tokens for your API, and bind the issuer with audience or clientIds to the clients whose ID tokens may call it',
      ],
      ['acceptIdTokens'],
    );
  }

  // Amazon Cognito access tokens carry no `aud` and no `typ`: an audience or a tokenType would deny
  // every one of them (documented token shape; see docs/idp/cognito.md). With acceptIdTokens, an
  // audience is how the ID tokens (aud = the app client) are bound, so it is no problem then.
  if (/^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/[^/]+$/.test(issuer.issuer)) {
    if (issuer.audience !== undefined && issuer.acceptIdTokens !== true) {
      find(
        'problem',
        'audience',
        'audience on an Amazon Cognito issuer',
        [
          'Cognito access tokens carry no aud (only ID tokens do, and those are refused): every token would be denied with audience_invalid. Bind the issuer with clientIds (the app client ids) instead',
        ],
        ['audience'],
      );
    }
    if (issuer.tokenType !== undefined) {
      find(
        'problem',
        'tokenType',
        `tokenType ${showValue(issuer.tokenType)} on an Amazon Cognito issuer`,
        [
          'Cognito access tokens carry no typ header: every token would be denied with typ_invalid. Remove tokenType',
        ],
        ['tokenType'],
      );
    }
  }

  // A rule scoped to other issuers never applies to this one's tokens: with no rule left, every
  // token of this issuer verifies and is then denied (no_role_mapping).
  if (config.rules.every((rule) => rule.issuer !== undefined && rule.issuer !== issuer.issuer)) {
    find(
      'warning',
      'rules',
      `no rule applies to tokens of ${issuer.issuer}: each names another issuer`,
      ['add a rule for this issuer, or remove the issuer if it should not be trusted'],
      [],
    );
  }
  return findings;
}

/** The known operations a rule covers (its `operations` resolved against KNOWN_OPERATIONS). */
function coveredOperations(rule: RoleRule): string[] {
  if (rule.operations === undefined) return [...KNOWN_OPERATIONS];
  return KNOWN_OPERATIONS.filter((operation) =>
    rule.operations?.some((entry) =>
      entry === 'read' || entry === 'write' ? entry === operationClass(operation) : entry === operation,
    ),
  );
}

/** True when every token `later` matches is matched by `earlier` too (same or wider scope). */
function shadows(earlier: RoleRule, later: RoleRule): boolean {
  if (earlier.issuer !== undefined && earlier.issuer !== later.issuer) return false;
  const laterOps = coveredOperations(later);
  const earlierOps = new Set(coveredOperations(earlier));
  if (laterOps.length === 0 || !laterOps.every((operation) => earlierOps.has(operation))) return false;
  if (earlier.datastores !== undefined) {
    if (later.datastores === undefined || !later.datastores.every((id) => earlier.datastores?.includes(id)))
      return false;
  }
  return Object.entries(earlier.claims).every(([path, wanted]) => {
    const laterWanted = Object.hasOwn(later.claims, path) ? later.claims[path] : undefined;
    if (laterWanted === undefined) return false;
    const earlierValues = Array.isArray(wanted) ? wanted : [wanted];
    const laterValues = Array.isArray(laterWanted) ? laterWanted : [laterWanted];
    return laterValues.every((value) => earlierValues.includes(value));
  });
}

export function lintRules(config: AuthorizerConfig, allowedRoles?: ReadonlySet<string>): Finding[] {
  const findings: Finding[] = [];
  const clientIds = new Set(config.issuers.flatMap((issuer) => issuer.clientIds ?? []));
  config.rules.forEach((rule, index) => {
    const own: Finding[] = [];
    const find = (severity: Severity, message: string, hints: string[] = [], key: PropertyKey[] = []) =>
      own.push({
        severity,
        subject: rule.name,
        message,
        hints,
        path: formatJsonPath(['rules', index, ...key]),
      });

    const unknown = (rule.operations ?? []).filter(
      (entry) => entry !== 'read' && entry !== 'write' && !isKnownOperation(entry),
    );
    if (rule.operations !== undefined && coveredOperations(rule).length === 0) {
      find(
        'problem',
        `can never match a HealthImaging operation: operations ${showValue(rule.operations)}`,
        [`use "read", "write" or operation names: ${KNOWN_OPERATIONS.join(', ')}`],
        ['operations'],
      );
    } else if (unknown.length > 0) {
      find(
        'warning',
        `operations ${showValue(unknown)} are not HealthImaging operations (a typo?)`,
        [],
        ['operations'],
      );
    }
    if (rule.datastores !== undefined && config.datastores !== undefined) {
      const reachable = rule.datastores.filter((id) => config.datastores?.includes(id));
      if (reachable.length === 0) {
        find(
          'problem',
          'can never match: none of its datastores is in the top-level datastores allowlist',
          [],
          ['datastores'],
        );
      }
    }
    for (const [path, wanted] of Object.entries(rule.claims)) {
      const values = Array.isArray(wanted) ? wanted : [wanted];
      if (
        (path === 'scp' || path === 'scope') &&
        values.some((value) => typeof value === 'string' && value.includes(' '))
      ) {
        find(
          'problem',
          `condition ${path}: a value with a space can never match`,
          [
            `${path} is split on spaces: list the scopes as separate values (any one matches), or use one rule per scope`,
          ],
          ['claims', path],
        );
      }
      if (path === 'oid' && values.some((value) => typeof value === 'string' && clientIds.has(value))) {
        find(
          'warning',
          'condition oid lists a value that is also in clientIds',
          [
            "oid is the service principal's Object ID (Enterprise applications → Object ID), not the Application (client) ID",
          ],
          ['claims', path],
        );
      }
    }
    const earlier = config.rules.slice(0, index).find((candidate) => shadows(candidate, rule));
    if (earlier !== undefined) {
      find(
        'warning',
        `never decides: the earlier rule ${earlier.name} matches every token this rule matches`,
        ['rules are tried in order and the first match wins: move the narrower rule first'],
      );
    }
    if (allowedRoles !== undefined && !allowedRoles.has(rule.roleArn)) {
      find(
        'problem',
        `roleArn ${rule.roleArn} is outside the allowed roles`,
        [
          'the Lambda denies with internal_error rather than return a role the deployment did not allow (AUTHORIZER_ALLOWED_ROLE_ARNS)',
        ],
        ['roleArn'],
      );
    }
    if (own.length === 0) find('ok', `→ ${rule.roleArn}`);
    findings.push(...own);
  });
  return findings;
}

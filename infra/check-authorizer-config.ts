/**
 * Synth-time validation of the authorizer configuration, so a config that would deny every request
 * never deploys: the handler's own schema (the JSON-path messages the function would log), the
 * deployment's role allowlist, and the lint `ahi-authorizer check` prints
 * (src/tools/cli/check/lint-config.ts): its problems fail synth, its warnings go to the synth output.
 */

import { type Finding, lintConfig } from '../src/tools/cli/check/lint-config.ts';
import { type AuthorizerConfig, formatConfigIssues, parseConfigText } from '../src/core/config/schema.ts';

/** An allowed role: an exact ARN, or a pattern when the stack's account is only known at deploy time. */
export type AllowedRole = string | RegExp;

export class AuthorizerConfigError extends Error {
  override name = 'AuthorizerConfigError';
}

export interface CheckedConfig {
  config: AuthorizerConfig;
  /** Lint warnings, one line each, for the synth output. */
  warnings: string[];
}

/** One problem a line, indented under the file's name (as the deployment settings' errors are). */
const indented = (lines: string): string =>
  lines
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');

/**
 * Returns the parsed config and its lint warnings, or throws an AuthorizerConfigError listing every
 * problem by JSON path.
 */
export function checkAuthorizerConfig(
  text: string,
  allowedRoles: readonly AllowedRole[],
  source = 'the authorizer config',
): CheckedConfig {
  const parsed = parseConfigText(text);
  if (!parsed.ok) {
    throw new AuthorizerConfigError(`${source} is invalid:\n${indented(formatConfigIssues(parsed.issues))}`);
  }
  const allowed = (arn: string) =>
    allowedRoles.some((role) => (typeof role === 'string' ? role === arn : role.test(arn)));
  const issues = parsed.config.rules.flatMap((rule, index) =>
    allowed(rule.roleArn)
      ? []
      : [
          {
            path: `$.rules[${index}].roleArn`,
            message:
              `rule "${rule.name}" names ${rule.roleArn}, which is not in the deployment's role allowlist ` +
              `(${allowedRoles.map(String).join(', ')}); name a stack-created role or add the ARN to extraRoleArns`,
          },
        ],
  );
  const config = parsed.config;
  const findings = lintConfig(config).map((finding) => ({ finding, line: lintLine(finding) }));
  const problems = findings.filter(({ finding }) => finding.severity === 'problem');
  if (issues.length > 0 || problems.length > 0) {
    const lines = [
      ...(issues.length > 0 ? [formatConfigIssues(issues)] : []),
      ...problems.map(({ line }) => line),
    ];
    throw new AuthorizerConfigError(`${source} is invalid:\n${indented(lines.join('\n'))}`);
  }
  return {
    config,
    warnings: findings.filter(({ finding }) => finding.severity === 'warning').map(({ line }) => line),
  };
}

/**
 * One line per finding, located by its JSON path, a rule's with the rule's name:
 * `$.rules[1] (viewers): …`, `$.issuers[0].tokenType: …`.
 */
function lintLine(finding: Finding): string {
  const rule = finding.path?.startsWith('$.rules[') === true ? ` (${finding.subject})` : '';
  const hints = finding.hints.length > 0 ? ` (${finding.hints.join('; ')})` : '';
  return `${finding.path ?? '$'}${rule}: ${finding.message}${hints}`;
}

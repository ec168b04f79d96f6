/**
 * Synth-time validation of the authorizer configuration: the handler's own schema (`parseConfigText`,
 * so a bad file fails `cdk synth` with exactly the JSON-path messages the function would log), plus
 * the deployment's rule that every rule's role is one the stack allows the function to return. A
 * config that would deny every request at run time never reaches SSM.
 */

import { type AuthorizerConfig, formatConfigIssues, parseConfigText } from '../src/config/schema.ts';

/** An allowed role: an exact ARN, or a pattern when the stack's account is only known at deploy time. */
export type AllowedRole = string | RegExp;

export class AuthorizerConfigError extends Error {
  override name = 'AuthorizerConfigError';
}

/** Returns the parsed config, or throws an AuthorizerConfigError listing every problem by JSON path. */
export function checkAuthorizerConfig(
  text: string,
  allowedRoles: readonly AllowedRole[],
  source = 'the authorizer config',
): AuthorizerConfig {
  const parsed = parseConfigText(text);
  if (!parsed.ok) {
    throw new AuthorizerConfigError(`${source} is invalid:\n${formatConfigIssues(parsed.issues)}`);
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
  if (issues.length > 0) {
    throw new AuthorizerConfigError(`${source} is invalid:\n${formatConfigIssues(issues)}`);
  }
  return parsed.config;
}

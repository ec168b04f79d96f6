/**
 * `ahi-authorizer check`: validates the configuration and probes every issuer's endpoints, then
 * prints the report (text or --json). Exit 0 no problems, 1 problems, 2 usage or invalid config.
 */

import { checkConfig } from './check-config.ts';
import type { CliIo } from '../shared/cli-io.ts';
import type { CheckArgs } from '../parse-cli-args.ts';
import { readText } from '../shared/print-failure.ts';
import { readCliCaBundle } from '../shared/read-ca-bundle.ts';
import { renderCheck } from './render-check.ts';
import { createTerminalStyle, wantsColour } from '../shared/terminal-style.ts';

export async function runCheckCommand(args: CheckArgs, io: CliIo): Promise<number> {
  const file = await readText(io, 'check', 'config', args.config);
  if (!file.ok) return 2;
  const allowedFromEnv = io.env['AUTHORIZER_ALLOWED_ROLE_ARNS']
    ?.split(',')
    .map((arn) => arn.trim())
    .filter(Boolean);
  const allowed = args.allowedRoles ?? allowedFromEnv;
  const trust = await readCliCaBundle(io, args.caBundle, 'check');
  if (!trust.ok) return 2;
  const report = await checkConfig(args.config, file.text, {
    ...(args.timeoutMs === undefined ? {} : { timeoutMs: args.timeoutMs }),
    ...(allowed === undefined ? {} : { allowedRoles: new Set(allowed) }),
    ...(trust.caBundle === undefined ? {} : { caBundle: trust.caBundle }),
  });
  if (args.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout(renderCheck(report, createTerminalStyle(wantsColour(io.stdoutIsTTY, io.env))));
  if (!report.config.ok) return 2;
  return report.problems > 0 ? 1 : 0;
}

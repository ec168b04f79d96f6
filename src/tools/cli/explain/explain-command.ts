/**
 * `ahi-authorizer explain`: reads the configuration (invalid → exit 2 with the JSON-path
 * messages), the token (--token or stdin) and an optional saved JWKS, builds the explain
 * composition root, runs the real pipeline and prints the report (text or --json).
 * Exit 0 allowed, 1 denied, 2 usage or configuration error.
 */

import { contentVersion } from '../../../core/config/content-version.ts';
import { formatConfigIssues, parseConfigText } from '../../../core/config/schema.ts';
import { isKnownOperation, KNOWN_OPERATIONS } from '../../../core/contract/healthimaging.ts';
import { parseJwks } from '../../../core/keys/parse-jwks.ts';
import { buildExplainDeps, normaliseJwksText } from './build-explain-deps.ts';
import { closestName } from '../closest-name.ts';
import type { CliIo } from '../shared/cli-io.ts';
import { cliCommand } from '../command-form.ts';
import { explainToken, type ExplainRequest } from './explain-token.ts';
import type { ExplainArgs } from '../parse-cli-args.ts';
import { readCliCaBundle } from '../shared/read-ca-bundle.ts';
import { renderExplain } from './render-explain.ts';
import { printFailure, readText } from '../shared/print-failure.ts';
import { createTerminalStyle, wantsColour } from '../shared/terminal-style.ts';

/** A datastore id for configs without a datastores allowlist (any valid id would do). */
export const PLACEHOLDER_DATASTORE_ID = '0'.repeat(32);

export const EXIT = { ok: 0, denied: 1, usage: 2 } as const;

/** The raw token: surrounding whitespace and an optional `Bearer ` scheme removed. */
export function cleanToken(text: string): string {
  return text.trim().replace(/^Bearer\s+/i, '');
}

/**
 * Why a --jwks file cannot stand in for an IdP's keys, or undefined when it can: it is judged by
 * the key store's own parser up front, so a wrong file is a usage error, not a denial
 * (idp_unavailable) whose hint would suggest --jwks. `text` is the file as normaliseJwksText returns it.
 */
function jwksFileProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not a JWKS (not JSON)';
  }
  const parsed = parseJwks(value);
  if (parsed.ok) return undefined;
  // A set whose keys are all unusable (private, symmetric, too small …) is a JWKS, but no use either.
  return parsed.cause === 'invalid' ? `not a JWKS (${parsed.detail})` : parsed.detail;
}

/** A path as one shell word, for a command line the user can paste. */
const shellWord = (text: string): string =>
  /^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;

/** `note: StoreDicom is not a HealthImaging operation (did you mean StoreDICOM?)` */
function unknownOperationNote(operation: string): string {
  const named = /^[A-Za-z0-9._:-]{1,64}$/.test(operation) ? operation : 'the operation';
  const close = closestName(operation, KNOWN_OPERATIONS);
  return `note: ${named} is not a HealthImaging operation${close === undefined ? '' : ` (did you mean ${close}?)`}`;
}

export async function runExplainCommand(args: ExplainArgs, io: CliIo): Promise<number> {
  const configFile = await readText(io, 'explain', 'config', args.config);
  if (!configFile.ok) return EXIT.usage;
  const parsed = parseConfigText(configFile.text);
  if (!parsed.ok) {
    if (args.json)
      io.stdout(
        `${JSON.stringify({ error: 'config_invalid', file: args.config, issues: parsed.issues }, null, 2)}\n`,
      );
    io.stderr(
      `ahi-authorizer: ${args.config} is not a valid configuration:\n${formatConfigIssues(parsed.issues)}\n`,
    );
    return EXIT.usage;
  }

  let raw = args.token;
  if (raw === undefined) {
    if (io.stdinIsTTY) {
      io.stderr(
        `ahi-authorizer: no token: pass it on stdin (echo "$TOKEN" | ${cliCommand('explain …')}) or with --token\n`,
      );
      return EXIT.usage;
    }
    raw = await io.readStdin();
  }
  const token = cleanToken(raw);
  if (token === '') {
    printFailure(
      io,
      'the token is empty',
      `echo "$TOKEN" | ${cliCommand(`explain --config ${shellWord(args.config)}`)} (with TOKEN set to the access token)`,
    );
    return EXIT.usage;
  }

  let jwks: { file: string; text: string } | undefined;
  if (args.jwks !== undefined) {
    const file = await readText(io, 'explain', 'JWKS', args.jwks);
    if (!file.ok) return EXIT.usage;
    // A bare JWK becomes a one-key set here, once: the check and the offline key store read the same text.
    const text = normaliseJwksText(file.text);
    const problem = jwksFileProblem(text);
    if (problem !== undefined) {
      printFailure(
        io,
        `cannot use --jwks ${args.jwks}: ${problem}`,
        `${cliCommand('explain --help')} (--jwks FILE: the IdP's key set, {"keys": [...]}, as its jwks_uri serves it)`,
      );
      return EXIT.usage;
    }
    jwks = { file: args.jwks, text };
  }

  const trust = await readCliCaBundle(io, args.caBundle, 'explain');
  if (!trust.ok) return EXIT.usage;

  const deps = buildExplainDeps({
    config: parsed.config,
    configVersion: contentVersion(configFile.text),
    configFile: args.config,
    ...(jwks === undefined ? {} : { jwks }),
    ...(trust.caBundle === undefined ? {} : { caBundle: trust.caBundle }),
    ...(args.nowMs === undefined ? {} : { nowMs: args.nowMs }),
  });
  const request: ExplainRequest = {
    token,
    datastoreId: args.datastore ?? parsed.config.datastores?.[0] ?? PLACEHOLDER_DATASTORE_ID,
    datastoreSource:
      args.datastore !== undefined
        ? 'option'
        : parsed.config.datastores !== undefined
          ? 'config'
          : 'placeholder',
  };
  if (args.operation !== undefined) {
    request.operation = args.operation;
    // Decided as asked (a rule may name a custom operation), but HealthImaging never sends it.
    if (!isKnownOperation(args.operation)) io.stderr(`${unknownOperationNote(args.operation)}\n`);
  }

  const report = await explainToken(request, deps);
  if (args.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout(renderExplain(report, createTerminalStyle(wantsColour(io.stdoutIsTTY, io.env))));
  return report.decision === 'allow' ? EXIT.ok : EXIT.denied;
}

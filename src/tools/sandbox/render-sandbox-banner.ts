/**
 * What `ahi-authorizer sandbox` prints once everything listens: profile, issuers, DICOMweb URL,
 * configuration source, tokens and ready-to-paste curl commands, or one JSON line with `--json`.
 * Each example's outcome is the handler's decision at start, never fixed text, flagged if it
 * differs from the guide's promise. Also the per-request log line.
 */

import { CLI_COMMAND } from '../cli/command-form.ts';
import type { TerminalStyle } from '../cli/shared/terminal-style.ts';
import { DEFAULT_PROFILE } from './idp-profiles.ts';
import { SANDBOX_ISSUER_PLACEHOLDER } from './prepare-sandbox-config.ts';
import type { EmulatorRequestLog } from './start-healthimaging-emulator.ts';
import type { ExampleOutcome, Sandbox, SandboxTokenSource } from './start-sandbox.ts';

/** The first stdout line with `--json`. */
export function sandboxJsonLine(sandbox: Sandbox): string {
  return JSON.stringify({
    profile: sandbox.profile,
    issuer: sandbox.issuer,
    issuers: sandbox.issuers,
    dicomweb: sandbox.dicomweb,
    datastoreId: sandbox.datastoreId,
    clients: sandbox.clients.map(({ clientId, clientSecret, scope }) => ({ clientId, clientSecret, scope })),
    tokenEndpoint: sandbox.tokenEndpoint,
    tokens: sandbox.tokenSources.map((source) =>
      source.kind === 'mint'
        ? { name: source.name, summary: source.summary, url: source.url }
        : { name: source.name },
    ),
    config: sandbox.effectiveConfigPath,
    examples: sandbox.examples,
  });
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function tokenCommand(source: SandboxTokenSource): string {
  if (source.kind === 'mint') return `TOKEN=$(curl -s -X POST ${source.url})`;
  return (
    `TOKEN=$(curl -s -u ${quote(`${source.name}:${source.clientSecret}`)} -d grant_type=client_credentials ` +
    `--data-urlencode ${quote(`scope=${source.scope}`)} ${source.tokenEndpoint} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`
  );
}

function requestCommand(example: ExampleOutcome, base: string): string {
  if (example.method === 'GET') return `curl -i -H "Authorization: Bearer $TOKEN" ${base}${example.path}`;
  return (
    `curl -i -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: multipart/related; type="application/dicom"' ` +
    `--data-binary @/dev/null ${base}${example.path}`
  );
}

/** The decision as a client sees it: status, then why. */
export function describeOutcome(
  example: Pick<ExampleOutcome, 'status' | 'message' | 'reason' | 'rule' | 'roleArn'>,
): string {
  if (example.status === 0) return example.message;
  const why = [example.reason, example.rule === undefined ? undefined : `rule ${example.rule}`]
    .filter((part) => part !== undefined)
    .join(', ');
  const head =
    example.status === 200 && example.roleArn !== undefined
      ? `200, role ${example.roleArn}`
      : `${example.status} "${example.message}"`;
  return why === '' ? head : `${head} (${why})`;
}

function describePromise(example: ExampleOutcome): string {
  const { promise } = example;
  if (promise === undefined) return '';
  return promise.reason === 'allowed' ? `allowed, role ${promise.roleArn ?? ''}` : promise.reason;
}

/**
 * What a profile's loopback issuer stands for. An http issuer (AD FS's default identifier) is kept
 * as it is: it is only compared with the tokens' iss, and never fetched.
 */
function issuerNote(issuer: Sandbox['issuers'][number], style: TerminalStyle): string {
  if (issuer.standsFor === undefined) return '';
  const note =
    issuer.standsFor === issuer.url
      ? "an identifier only, never fetched: keys come from the guide's pinned jwksUri, on 127.0.0.1"
      : `stands for ${issuer.standsFor}`;
  return `  ${style.dim(`(${note})`)}`;
}

export function renderSandboxBanner(sandbox: Sandbox, style: TerminalStyle): string {
  const label = (text: string) => style.bold(text.padEnd(10));
  const indent = ' '.repeat(10);
  const out: string[] = [];
  if (sandbox.profileTitle === undefined) {
    out.push(
      style.bold('ahi-authorizer sandbox: a HealthImaging emulator and an OpenID Provider on 127.0.0.1'),
    );
    out.push('');
    out.push(
      `${label('issuer')}${sandbox.issuer}  ${style.dim('(embedded OpenID Provider, client credentials, RFC 9068 at+jwt tokens)')}`,
    );
  } else {
    out.push(
      style.bold(
        `ahi-authorizer sandbox, profile ${sandbox.profile}: a HealthImaging emulator and an IdP on 127.0.0.1`,
      ),
    );
    out.push(style.dim(sandbox.profileTitle));
    out.push('');
    for (const [index, issuer] of sandbox.issuers.entries()) {
      out.push(`${label(index === 0 ? 'issuer' : '')}${issuer.url}${issuerNote(issuer, style)}`);
    }
  }
  out.push(`${label('dicomweb')}${sandbox.dicomweb}`);
  out.push(`${label('config')}${sandbox.configSource}`);
  out.push(`${indent}${style.dim(`loaded by the handler as ${sandbox.effectiveConfigPath}`)}`);
  out.push(
    `${label('handler')}${sandbox.handlerPath} ${style.dim('(child process; HealthImaging limit 1 s per request)')}`,
  );
  for (const [index, source] of sandbox.tokenSources.entries()) {
    const detail =
      source.kind === 'mint'
        ? source.summary
        : `secret ${source.clientSecret}  scope ${JSON.stringify(source.scope)}`;
    out.push(
      `${label(index === 0 ? (source.kind === 'mint' ? 'tokens' : 'clients') : '')}${source.name.padEnd(19)}${detail}`,
    );
  }
  if (!sandbox.trustsEmbeddedIdp) {
    out.push('');
    out.push(
      style.status(
        'warn',
        `Your config does not trust the embedded IdP (${sandbox.issuer}): use tokens from your own IdP, or add an issuer ` +
          `"${SANDBOX_ISSUER_PLACEHOLDER}" (replaced by the embedded issuer at start).`,
      ),
    );
  }
  out.push('');
  out.push(
    style.bold(
      'Try it; each outcome is what the handler decided for that request at start (paste into a shell):',
    ),
  );
  const base = sandbox.dicomweb;
  let step = 0;
  let current: string | undefined;
  for (const example of sandbox.examples) {
    if (example.token !== current) {
      const source = sandbox.tokenSources.find((candidate) => candidate.name === example.token);
      if (source !== undefined) {
        step += 1;
        const how = source.kind === 'mint' ? "minted in this IdP's documented shape" : 'client credentials';
        out.push(style.dim(`# ${step}. a token for ${source.name} (${how})`));
        out.push(tokenCommand(source));
      }
      current = example.token;
    }
    step += 1;
    const operation = example.operation === undefined ? '' : ` (${example.operation})`;
    const outcome = describeOutcome(example);
    const mark = example.status === 200 ? 'ok' : example.status === 403 ? 'info' : 'fail';
    out.push(`${style.dim(`# ${step}. ${example.title}${operation} →`)} ${style.status(mark, outcome)}`);
    if (example.kept === false) {
      out.push(
        style.status(
          'warn',
          `#    not what ${sandbox.profile === DEFAULT_PROFILE ? 'sandbox/README.md' : sandbox.configPath} promises: ${describePromise(example)}`,
        ),
      );
    }
    out.push(requestCommand(example, base));
  }
  step += 1;
  out.push(style.dim(`# ${step}. why? every step of the decision for the last token`));
  // The datastore the emulator serves, so explain decides for the same one (a datastores
  // allowlist or a rule's datastores would otherwise judge the config's first, or a placeholder).
  out.push(
    `echo "$TOKEN" | ${CLI_COMMAND} explain --config ${sandbox.effectiveConfigPath} --datastore ${sandbox.datastoreId}`,
  );
  out.push('');
  out.push(style.dim('Requests are logged below. Ctrl-C stops everything.'));
  return `${out.join('\n')}\n`;
}

export function renderRequestLog(entry: EmulatorRequestLog, style: TerminalStyle): string {
  const outcome =
    entry.status === 200
      ? `${style.status('ok', '200')} ${entry.reason ?? 'allowed'} → ${entry.roleArn ?? ''}`
      : `${style.status('fail', String(entry.status))} ${entry.message}${entry.reason === undefined ? '' : ` (${entry.reason})`}`;
  const arrow = style.dim('→');
  return `${entry.method.padEnd(4)} ${entry.path} ${arrow} ${entry.operation ?? '-'} ${arrow} ${outcome} ${style.dim(
    `${Math.round(entry.ms)} ms`,
  )}\n`;
}

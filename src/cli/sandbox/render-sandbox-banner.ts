/**
 * What `ahi-authorizer sandbox` prints once everything listens: the issuer and DICOMweb URLs, the
 * demo clients, and ready-to-paste curl commands (get a token, search studies, store an instance,
 * explain the decision) — or, with `--json`, one JSON object on one line for scripts. Also the
 * one-line log of each emulated request.
 */

import type { TerminalStyle } from '../terminal-style.ts';
import type { EmulatorRequestLog } from './start-healthimaging-emulator.ts';
import type { Sandbox } from './start-sandbox.ts';

/** The first stdout line with `--json`. */
export function sandboxJsonLine(sandbox: Sandbox): string {
  return JSON.stringify({
    issuer: sandbox.issuer,
    dicomweb: sandbox.dicomweb,
    datastoreId: sandbox.datastoreId,
    clients: sandbox.clients.map(({ clientId, clientSecret, scope }) => ({ clientId, clientSecret, scope })),
    tokenEndpoint: sandbox.tokenEndpoint,
    config: sandbox.effectiveConfigPath,
  });
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function tokenCommand(sandbox: Sandbox, clientId: string, secret: string, scope: string): string {
  return (
    `TOKEN=$(curl -s -u ${quote(`${clientId}:${secret}`)} -d grant_type=client_credentials ` +
    `--data-urlencode ${quote(`scope=${scope}`)} ${sandbox.tokenEndpoint} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`
  );
}

export function renderSandboxBanner(sandbox: Sandbox, style: TerminalStyle): string {
  const label = (text: string) => style.bold(text.padEnd(10));
  const reader = sandbox.clients.find((client) => client.clientId === 'dicom-reader') ?? sandbox.clients[0];
  const writer = sandbox.clients.find((client) => client.clientId === 'dicom-writer') ?? sandbox.clients[1];
  const out: string[] = [
    style.bold('ahi-authorizer sandbox: a HealthImaging emulator and an OpenID Provider on 127.0.0.1'),
    '',
    `${label('issuer')}${sandbox.issuer}  ${style.dim('(embedded OpenID Provider, client credentials, RFC 9068 at+jwt tokens)')}`,
    `${label('dicomweb')}${sandbox.dicomweb}`,
    `${label('config')}${sandbox.configPath}`,
    `${' '.repeat(10)}${style.dim(`loaded by the handler as ${sandbox.effectiveConfigPath}`)}`,
    `${label('handler')}${sandbox.handlerPath} ${style.dim('(child process; HealthImaging limit 1 s per request)')}`,
  ];
  for (const [index, client] of sandbox.clients.entries()) {
    out.push(
      `${label(index === 0 ? 'clients' : '')}${client.clientId.padEnd(14)}secret ${client.clientSecret}  scope ${JSON.stringify(client.scope)}`,
    );
  }
  if (!sandbox.trustsEmbeddedIdp) {
    out.push('');
    out.push(
      style.status(
        'warn',
        `Your config does not trust the embedded IdP (${sandbox.issuer}): use tokens from your own IdP, or add an issuer ` +
          '"http://127.0.0.1/embedded-idp" (replaced by the embedded issuer at start).',
      ),
    );
  }
  out.push('');
  out.push(style.bold('Try it (paste into a shell):'));
  const base = sandbox.dicomweb;
  if (reader !== undefined) {
    out.push(style.dim('# 1. a token for the reader (client credentials)'));
    out.push(tokenCommand(sandbox, reader.clientId, reader.clientSecret, reader.scope));
  }
  out.push(style.dim('# 2. search studies: 200, the role in x-authorizer-role'));
  out.push(`curl -i -H "Authorization: Bearer $TOKEN" ${base}/studies`);
  out.push(
    style.dim(
      '# 3. store an instance with the reader: 403 "Access Denied" (x-authorizer-reason: operation_not_permitted)',
    ),
  );
  out.push(
    `curl -i -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: multipart/related; type="application/dicom"' --data-binary @/dev/null ${base}/studies`,
  );
  if (writer !== undefined) {
    out.push(style.dim('# 4. the writer may store: take its token, then repeat 3 (200)'));
    out.push(tokenCommand(sandbox, writer.clientId, writer.clientSecret, writer.scope));
  }
  out.push(style.dim('# 5. why? every step of the decision'));
  out.push(`echo "$TOKEN" | npm run -s ahi-authorizer -- explain --config ${sandbox.effectiveConfigPath}`);
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

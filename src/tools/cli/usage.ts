/**
 * The CLI's help text: one overview and one section per command, printed by `help` and `--help`
 * (a usage error prints one line and points here). Every command line in it is written in the
 * one form the project runs its CLI with (command-form.ts).
 */

import { DEFAULT_PROFILE, PROFILE_NAMES } from '../sandbox/idp-profiles.ts';
import { SANDBOX_ISSUER_PLACEHOLDER } from '../sandbox/prepare-sandbox-config.ts';
import { CLI_COMMAND } from './command-form.ts';

const INDENT = ' '.repeat(CLI_COMMAND.length + 11);

/** Where an option's description starts, and the width the help text keeps to. */
const OPTION_INDENT = ' '.repeat(24);
const LINE_WIDTH = 96;

/** Text for an option's description column, wrapped at spaces to LINE_WIDTH. */
function wrapOptionText(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && OPTION_INDENT.length + line.length + 1 + word.length > LINE_WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${OPTION_INDENT}`);
}

const IDP_PROFILE_NAMES = PROFILE_NAMES.filter((name) => name !== DEFAULT_PROFILE);

const OVERVIEW = `ahi-authorizer: explain and check AWS HealthImaging OIDC authorizer decisions, and run a local sandbox

Usage, in a clone of the repository after npm ci and npm run build:
  ${CLI_COMMAND} explain --config FILE [--token JWT] [--operation OP]
${INDENT}[--datastore ID] [--now TIME] [--jwks FILE] [--ca-bundle FILE] [--json]
  ${CLI_COMMAND} check   --config FILE [--timeout MS] [--allowed-roles ARN,...]
${INDENT}[--ca-bundle FILE] [--json]
  ${CLI_COMMAND} sandbox [--profile NAME | --config FILE] [--port N] [--idp-port N]
${INDENT}[--datastore ID] [--json]
  ${CLI_COMMAND} help [COMMAND]
npm run runs this package's own script, never a registry package; -s keeps npm's header off the
output; everything after -- goes to the CLI; relative paths are read from where you run it.
`;

const EXPLAIN = `explain   Runs the authorizer's own pipeline on a token and prints every step (format, header,
          issuer, key, signature, each time claim, audience / client / tenant), every rule with
          the condition that failed, the decision with its reason code, what HealthImaging answers,
          and the most likely cause. The token comes from --token or stdin (a leading "Bearer " is
          ignored). It is never printed; claims are shown only after the signature verified.
  -c, --config FILE     the authorizer configuration (JSON)
  -t, --token JWT       the access token (prefer stdin: arguments end up in shell history)
  -o, --operation OP    one HealthImaging operation, e.g. GetDICOMInstance; without it, a table
                        of the decision for every operation
  -d, --datastore ID    the datastore id (default: the config's first datastore, else a
                        placeholder, 00000000000000000000000000000000)
      --now TIME        evaluate at another instant: ISO 8601 (2026-11-23T12:00:00Z) or epoch
                        seconds
      --jwks FILE       verify offline against this saved JWKS (no network)
      --ca-bundle FILE  PEM CA certificates trusted for discovery and JWKS beside the default CAs
                        (an IdP signed by a private CA; default: AUTHORIZER_CA_BUNDLE_FILE)
      --json            the same report as JSON
  Exit status: 0 allowed (without --operation: for at least one operation), 1 denied,
               2 usage or configuration error.
`;

const CHECK = `check     Validates the configuration (same messages and JSON paths as the Lambda), fetches each
          issuer's discovery document and JWKS with timings, and reports usable keys and their
          algorithms, issuer mismatches (Entra v1/v2 hints), unreachable endpoints and TLS
          failures by cause (unknown CA, expired, another host name), rules that can never match,
          and roles outside the allowlist.
  -c, --config FILE          the authorizer configuration (JSON)
      --timeout MS           per request (default 5000)
      --allowed-roles ARNS   comma-separated role ARNs the deployment allows
                             (default: AUTHORIZER_ALLOWED_ROLE_ARNS, else not checked)
      --ca-bundle FILE       PEM CA certificates trusted for discovery and JWKS beside the
                             default CAs (an IdP signed by a private CA; default:
                             AUTHORIZER_CA_BUNDLE_FILE)
      --json                 the same report as JSON
  Exit status: 0 no problems (warnings allowed), 1 problems found, 2 usage error or invalid
               configuration.
`;

const SANDBOX = `sandbox   Starts, on 127.0.0.1, an embedded OpenID Provider (demo clients dicom-reader and
          dicom-writer, client credentials, RFC 9068 JWT access tokens) and a HealthImaging
          DICOMweb emulator that runs HealthImaging's pre-checks and invokes the built Lambda code
          (npm run build) with the exact HealthImaging event and a 1 s limit, answering 200 / 403 /
          408 / 424 as HealthImaging does. Prints the URLs and curl commands. Ctrl-C stops it.
      --profile NAME    mint one IdP's documented token shapes and run its guide's configuration
                        ${wrapOptionText(`(docs/idp/README.md): ${IDP_PROFILE_NAMES.join(', ')};`)}
                        default: the embedded provider
  -c, --config FILE     your own configuration, e.g. to try your real IdP (default:
                        sandbox/config.json; the issuer "${SANDBOX_ISSUER_PLACEHOLDER}" stands
                        for the embedded provider)
  -p, --port N          the emulator's port (default 8787; 0 picks a free one)
      --idp-port N      the OpenID Provider's port (default: a free one)
  -d, --datastore ID    the datastore id in the DICOMweb URL (default: the config's first
                        datastore)
      --json            print one JSON line first: {"issuer", "dicomweb", "datastoreId",
                        "clients", ...}; then one JSON line per request
  Exit status: 0 stopped by Ctrl-C or SIGTERM, 1 could not start (e.g. the port is in use),
               2 usage error or invalid configuration.
`;

const SECTIONS: Readonly<Record<string, string>> = { explain: EXPLAIN, check: CHECK, sandbox: SANDBOX };

export function usage(topic?: string): string {
  const section = topic === undefined ? undefined : SECTIONS[topic];
  if (section !== undefined) return `${OVERVIEW}\n${section}`;
  return `${OVERVIEW}\n${EXPLAIN}\n${CHECK}\n${SANDBOX}`;
}

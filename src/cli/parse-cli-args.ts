/**
 * argv → a typed command, with node:util parseArgs (strict: an unknown option or a stray argument
 * is a usage error, exit 2). Only the shape of arguments is checked here; files are read and
 * values interpreted by the commands.
 */

import { parseArgs } from 'node:util';
import { DATASTORE_ID_PATTERN } from '../contract/healthimaging.ts';
import { parseInstant } from './parse-instant.ts';

export interface ExplainArgs {
  command: 'explain';
  config: string;
  token?: string;
  operation?: string;
  datastore?: string;
  nowMs?: number;
  jwks?: string;
  /** A PEM file of CAs trusted for discovery and JWKS beside the default ones. */
  caBundle?: string;
  json: boolean;
}

export interface CheckArgs {
  command: 'check';
  config: string;
  timeoutMs?: number;
  allowedRoles?: string[];
  /** A PEM file of CAs trusted for discovery and JWKS beside the default ones. */
  caBundle?: string;
  json: boolean;
}

export interface SandboxArgs {
  command: 'sandbox';
  config?: string;
  port?: number;
  idpPort?: number;
  datastore?: string;
  json: boolean;
}

export type CliCommand =
  ExplainArgs | CheckArgs | SandboxArgs | { command: 'help'; topic?: string } | { command: 'version' };

export type ParsedCli = { ok: true; value: CliCommand } | { ok: false; message: string };

const fail = (message: string): ParsedCli => ({ ok: false, message });

function parsePort(name: string, value: string | undefined): number | undefined | string {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535)
    return `${name}: expected a port number from 0 to 65535`;
  return Number(value);
}

function checkDatastore(value: string | undefined): string | undefined {
  if (value !== undefined && !DATASTORE_ID_PATTERN.test(value)) {
    return '--datastore: a HealthImaging datastore id is 32 characters of [0-9a-z]';
  }
  return undefined;
}

function parseCommandArgs(command: string, args: string[]): ParsedCli {
  switch (command) {
    case 'explain': {
      const { values } = parseArgs({
        args,
        strict: true,
        allowPositionals: false,
        options: {
          config: { type: 'string', short: 'c' },
          token: { type: 'string', short: 't' },
          operation: { type: 'string', short: 'o' },
          datastore: { type: 'string', short: 'd' },
          now: { type: 'string' },
          jwks: { type: 'string' },
          'ca-bundle': { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
      if (values.help) return { ok: true, value: { command: 'help', topic: 'explain' } };
      if (values.config === undefined) return fail('explain: --config FILE is required');
      const datastoreProblem = checkDatastore(values.datastore);
      if (datastoreProblem) return fail(datastoreProblem);
      const result: ExplainArgs = { command: 'explain', config: values.config, json: values.json };
      if (values.token !== undefined) result.token = values.token;
      if (values.operation !== undefined) result.operation = values.operation;
      if (values.datastore !== undefined) result.datastore = values.datastore;
      if (values.jwks !== undefined) result.jwks = values.jwks;
      if (values['ca-bundle'] !== undefined) result.caBundle = values['ca-bundle'];
      if (values.now !== undefined) {
        const now = parseInstant(values.now);
        if (!now.ok) return fail(now.message);
        result.nowMs = now.ms;
      }
      return { ok: true, value: result };
    }
    case 'check': {
      const { values } = parseArgs({
        args,
        strict: true,
        allowPositionals: false,
        options: {
          config: { type: 'string', short: 'c' },
          timeout: { type: 'string' },
          'allowed-roles': { type: 'string' },
          'ca-bundle': { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
      if (values.help) return { ok: true, value: { command: 'help', topic: 'check' } };
      if (values.config === undefined) return fail('check: --config FILE is required');
      const result: CheckArgs = { command: 'check', config: values.config, json: values.json };
      if (values.timeout !== undefined) {
        if (!/^\d{1,6}$/.test(values.timeout) || Number(values.timeout) < 1) {
          return fail('--timeout: expected milliseconds, e.g. 2000');
        }
        result.timeoutMs = Number(values.timeout);
      }
      if (values['allowed-roles'] !== undefined) {
        result.allowedRoles = values['allowed-roles']
          .split(',')
          .map((arn) => arn.trim())
          .filter(Boolean);
      }
      if (values['ca-bundle'] !== undefined) result.caBundle = values['ca-bundle'];
      return { ok: true, value: result };
    }
    case 'sandbox': {
      const { values } = parseArgs({
        args,
        strict: true,
        allowPositionals: false,
        options: {
          config: { type: 'string', short: 'c' },
          port: { type: 'string', short: 'p' },
          'idp-port': { type: 'string' },
          datastore: { type: 'string', short: 'd' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
      if (values.help) return { ok: true, value: { command: 'help', topic: 'sandbox' } };
      const port = parsePort('--port', values.port);
      if (typeof port === 'string') return fail(port);
      const idpPort = parsePort('--idp-port', values['idp-port']);
      if (typeof idpPort === 'string') return fail(idpPort);
      const datastoreProblem = checkDatastore(values.datastore);
      if (datastoreProblem) return fail(datastoreProblem);
      const result: SandboxArgs = { command: 'sandbox', json: values.json };
      if (values.config !== undefined) result.config = values.config;
      if (port !== undefined) result.port = port;
      if (idpPort !== undefined) result.idpPort = idpPort;
      if (values.datastore !== undefined) result.datastore = values.datastore;
      return { ok: true, value: result };
    }
    default:
      return fail(`unknown command ${JSON.stringify(command.slice(0, 40))}`);
  }
}

export function parseCliArgs(argv: readonly string[]): ParsedCli {
  const [command, ...args] = argv;
  if (command === undefined) return fail('a command is required');
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = args[0];
    return { ok: true, value: topic === undefined ? { command: 'help' } : { command: 'help', topic } };
  }
  if (command === '--version' || command === '-v' || command === 'version')
    return { ok: true, value: { command: 'version' } };
  try {
    return parseCommandArgs(command, args);
  } catch (error) {
    // A stray argument may be a pasted token: never echo it (parseArgs' message would).
    if ((error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      return fail(`${command}: unexpected argument (not shown); a token goes on stdin or after --token`);
    }
    // Otherwise parseArgs' message names only the option (ERR_PARSE_ARGS_UNKNOWN_OPTION …).
    return fail(`${command}: ${error instanceof Error ? error.message : 'invalid arguments'}`);
  }
}

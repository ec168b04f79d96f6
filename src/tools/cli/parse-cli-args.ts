/**
 * argv → a typed command: parseArgs' tokens are checked against one table of each command's
 * options; an unknown command or option (with the closest known name), a missing value or required
 * option, or a stray argument is a one-line usage error (exit 2). The commands read files and
 * interpret values.
 */

import { parseArgs } from 'node:util';
import { DATASTORE_ID_PATTERN } from '../../core/contract/healthimaging.ts';
import { closestName } from './closest-name.ts';
import { parseInstant } from './parse-instant.ts';
import { DEFAULT_PROFILE, PROFILE_NAMES } from '../sandbox/idp-profiles.ts';

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
  profile?: string;
  config?: string;
  port?: number;
  idpPort?: number;
  datastore?: string;
  json: boolean;
}

export type CliCommand =
  ExplainArgs | CheckArgs | SandboxArgs | { command: 'help'; topic?: string } | { command: 'version' };

/**
 * A usage error: one line naming the problem, and the command whose `--help` to point at
 * (undefined: the overview, `help`).
 */
export type ParsedCli =
  { ok: true; value: CliCommand } | { ok: false; message: string; command?: CommandName };

export type CommandName = 'explain' | 'check' | 'sandbox';

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** What the value stands for in messages (`--config FILE`). */
  value?: string;
}

const HELP: OptionSpec = { type: 'boolean', short: 'h' };

/** Every command's options; parsing, the messages and the suggestions all read this table. */
export const COMMAND_OPTIONS: Readonly<Record<CommandName, Readonly<Record<string, OptionSpec>>>> = {
  explain: {
    config: { type: 'string', short: 'c', value: 'FILE' },
    token: { type: 'string', short: 't', value: 'JWT' },
    operation: { type: 'string', short: 'o', value: 'OP' },
    datastore: { type: 'string', short: 'd', value: 'ID' },
    now: { type: 'string', value: 'TIME' },
    jwks: { type: 'string', value: 'FILE' },
    'ca-bundle': { type: 'string', value: 'FILE' },
    json: { type: 'boolean' },
    help: HELP,
  },
  check: {
    config: { type: 'string', short: 'c', value: 'FILE' },
    timeout: { type: 'string', value: 'MS' },
    'allowed-roles': { type: 'string', value: 'ARNS' },
    'ca-bundle': { type: 'string', value: 'FILE' },
    json: { type: 'boolean' },
    help: HELP,
  },
  sandbox: {
    profile: { type: 'string', value: 'NAME' },
    config: { type: 'string', short: 'c', value: 'FILE' },
    port: { type: 'string', short: 'p', value: 'N' },
    'idp-port': { type: 'string', value: 'N' },
    datastore: { type: 'string', short: 'd', value: 'ID' },
    json: { type: 'boolean' },
    help: HELP,
  },
};

const COMMANDS = [...(Object.keys(COMMAND_OPTIONS) as CommandName[]), 'help', 'version'];

const isCommandName = (name: string): name is CommandName => Object.hasOwn(COMMAND_OPTIONS, name);

const fail = (message: string, command?: CommandName): ParsedCli =>
  command === undefined ? { ok: false, message } : { ok: false, message, command };

/** An argument that does not look like an option name is not echoed: it may be a pasted token. */
const shown = (raw: string) =>
  /^--?[A-Za-z0-9][A-Za-z0-9-]{0,39}$/.test(raw) ? raw : 'an option (not shown: it does not look like one)';

function unknownOption(command: CommandName, raw: string): string {
  const typed = raw.replace(/^--?/, '');
  const names = Object.keys(COMMAND_OPTIONS[command]);
  const close = raw.startsWith('--') ? closestName(typed, names) : undefined;
  const elsewhere = (Object.keys(COMMAND_OPTIONS) as CommandName[]).filter(
    (other) => other !== command && Object.hasOwn(COMMAND_OPTIONS[other], typed),
  );
  const suggestion =
    close !== undefined
      ? ` (did you mean --${close}?)`
      : elsewhere.length > 0 && raw.startsWith('--')
        ? ` (an option of ${elsewhere.join(' and ')})`
        : '';
  return `unknown option ${shown(raw)} for ${command}${suggestion}`;
}

type Values = Record<string, string | boolean | undefined>;

/** `-5`, `-0.5`: never an option (short options are letters). */
const NEGATIVE_NUMBER = /^-\.?\d/;

/**
 * node:util parseArgs tokens, checked against the command's table: any problem is one message that
 * names the option (never a value, which may be a token).
 */
function readOptions(
  command: CommandName,
  args: string[],
): { ok: true; values: Values } | { ok: false; message: string } | { ok: true; help: true } {
  const spec = COMMAND_OPTIONS[command];
  const { tokens } = parseArgs({
    args,
    options: Object.fromEntries(
      Object.entries(spec).map(([name, { type, short }]) => [
        name,
        short === undefined ? { type } : { type, short },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help'))
    return { ok: true, help: true };
  const values: Values = {};
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      return {
        ok: false,
        message: `unexpected argument for ${command} (not shown); a token goes on stdin or after --token`,
      };
    }
    const option = Object.hasOwn(spec, token.name) ? spec[token.name] : undefined;
    if (option === undefined) return { ok: false, message: unknownOption(command, token.rawName) };
    const long = `--${token.name}`;
    if (option.type === 'boolean') {
      if (token.value !== undefined) return { ok: false, message: `${long} takes no value` };
      values[token.name] = true;
      continue;
    }
    // parseArgs takes the next argument as the value even when it is another option (--config --json);
    // a negative number (--timeout -5) is a value, for the command to judge (no option is a digit).
    if (
      token.value === undefined ||
      (!token.inlineValue &&
        token.value.startsWith('-') &&
        token.value !== '-' &&
        !NEGATIVE_NUMBER.test(token.value))
    ) {
      return { ok: false, message: `${long} needs a value: ${long} ${option.value ?? 'VALUE'}` };
    }
    values[token.name] = token.value;
  }
  return { ok: true, values };
}

const text = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

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

function parseCommandArgs(command: CommandName, args: string[]): ParsedCli {
  const read = readOptions(command, args);
  if (!read.ok) return fail(read.message, command);
  if ('help' in read) return { ok: true, value: { command: 'help', topic: command } };
  const { values } = read;
  const json = values['json'] === true;
  const config = text(values, 'config');
  switch (command) {
    case 'explain': {
      if (config === undefined) return fail('explain needs --config FILE', command);
      const datastoreProblem = checkDatastore(text(values, 'datastore'));
      if (datastoreProblem) return fail(datastoreProblem, command);
      const result: ExplainArgs = { command: 'explain', config, json };
      const token = text(values, 'token');
      const operation = text(values, 'operation');
      const datastore = text(values, 'datastore');
      const jwks = text(values, 'jwks');
      const now = text(values, 'now');
      if (token !== undefined) result.token = token;
      if (operation !== undefined) result.operation = operation;
      if (datastore !== undefined) result.datastore = datastore;
      if (jwks !== undefined) result.jwks = jwks;
      const caBundle = text(values, 'ca-bundle');
      if (caBundle !== undefined) result.caBundle = caBundle;
      if (now !== undefined) {
        const instant = parseInstant(now);
        if (!instant.ok) return fail(instant.message, command);
        result.nowMs = instant.ms;
      }
      return { ok: true, value: result };
    }
    case 'check': {
      if (config === undefined) return fail('check needs --config FILE', command);
      const result: CheckArgs = { command: 'check', config, json };
      const caBundle = text(values, 'ca-bundle');
      if (caBundle !== undefined) result.caBundle = caBundle;
      const timeout = text(values, 'timeout');
      if (timeout !== undefined) {
        if (!/^\d{1,6}$/.test(timeout) || Number(timeout) < 1) {
          return fail('--timeout: expected milliseconds, e.g. 2000', command);
        }
        result.timeoutMs = Number(timeout);
      }
      const allowedRoles = text(values, 'allowed-roles');
      if (allowedRoles !== undefined) {
        result.allowedRoles = allowedRoles
          .split(',')
          .map((arn) => arn.trim())
          .filter(Boolean);
      }
      return { ok: true, value: result };
    }
    case 'sandbox': {
      const port = parsePort('--port', text(values, 'port'));
      if (typeof port === 'string') return fail(port, command);
      const idpPort = parsePort('--idp-port', text(values, 'idp-port'));
      if (typeof idpPort === 'string') return fail(idpPort, command);
      const datastore = text(values, 'datastore');
      const datastoreProblem = checkDatastore(datastore);
      if (datastoreProblem) return fail(datastoreProblem, command);
      const profile = text(values, 'profile');
      if (profile !== undefined && !PROFILE_NAMES.includes(profile)) {
        return fail(`--profile: one of ${PROFILE_NAMES.join(', ')}`, command);
      }
      if (profile !== undefined && profile !== DEFAULT_PROFILE && config !== undefined) {
        return fail("--profile runs its guide's configuration: leave out --config", command);
      }
      const result: SandboxArgs = { command: 'sandbox', json };
      if (profile !== undefined) result.profile = profile;
      if (config !== undefined) result.config = config;
      if (port !== undefined) result.port = port;
      if (idpPort !== undefined) result.idpPort = idpPort;
      if (datastore !== undefined) result.datastore = datastore;
      return { ok: true, value: result };
    }
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

function unknownCommand(name: string): ParsedCli {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/.test(name)) return fail('unknown command (not shown)');
  const close = closestName(name, COMMANDS);
  return fail(`unknown command ${name}${close === undefined ? '' : ` (did you mean ${close}?)`}`);
}

export function parseCliArgs(argv: readonly string[]): ParsedCli {
  const [command, ...args] = argv;
  if (command === undefined) return fail('a command is required');
  if (command === 'help' || command === '--help' || command === '-h') {
    const [topic, ...rest] = args;
    if (topic === undefined || topic === 'help' || topic === 'version')
      return rest.length > 0 ? fail('help takes one command name') : { ok: true, value: { command: 'help' } };
    if (!isCommandName(topic)) return unknownCommand(topic);
    if (rest.length > 0) return fail('help takes one command name');
    return { ok: true, value: { command: 'help', topic } };
  }
  if (command === '--version' || command === '-v' || command === 'version')
    return { ok: true, value: { command: 'version' } };
  if (command.startsWith('-')) {
    return fail(`${shown(command)} before a command: the command comes first (explain, check, sandbox)`);
  }
  if (!isCommandName(command)) return unknownCommand(command);
  return parseCommandArgs(command, args);
}

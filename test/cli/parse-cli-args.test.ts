/**
 * argv parsing: each command's options become typed values; anything malformed is a usage error
 * of one line naming the problem (with the closest known name for a typo) and the command whose
 * help to show, whose message never repeats a stray argument (it may be a token).
 */

import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/tools/cli/closest-name.ts';
import { parseCliArgs } from '../../src/tools/cli/parse-cli-args.ts';
import { parseInstant } from '../../src/tools/cli/parse-instant.ts';

describe('parseCliArgs', () => {
  it('parses explain with every option', () => {
    const parsed = parseCliArgs([
      'explain',
      '--config',
      'c.json',
      '--operation',
      'GetDICOMInstance',
      '--datastore',
      'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      '--now',
      '1763899200',
      '--jwks',
      'k.json',
      '--json',
    ]);
    expect(parsed).toEqual({
      ok: true,
      value: {
        command: 'explain',
        config: 'c.json',
        operation: 'GetDICOMInstance',
        datastore: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
        nowMs: 1_763_899_200_000,
        jwks: 'k.json',
        json: true,
      },
    });
  });

  it('parses check and sandbox options', () => {
    expect(
      parseCliArgs(['check', '--config', 'c.json', '--timeout', '2000', '--allowed-roles', 'a, b']),
    ).toEqual({
      ok: true,
      value: { command: 'check', config: 'c.json', timeoutMs: 2000, allowedRoles: ['a', 'b'], json: false },
    });
    expect(parseCliArgs(['sandbox', '--port', '0', '--idp-port', '9000', '--json'])).toEqual({
      ok: true,
      value: { command: 'sandbox', port: 0, idpPort: 9000, json: true },
    });
  });

  it.each([
    [[], 'a command is required', undefined],
    [['explain'], 'explain needs --config FILE', 'explain'],
    [['check'], 'check needs --config FILE', 'check'],
    [['sandbox', '--port', '70000'], '--port: expected a port number from 0 to 65535', 'sandbox'],
    [['check', '--config', 'c', '--timeout', 'soon'], '--timeout: expected milliseconds, e.g. 2000', 'check'],
    [['check', '--config', 'c', '--timeout', '-5'], '--timeout: expected milliseconds, e.g. 2000', 'check'],
    [['sandbox', '--port', '-1'], '--port: expected a port number from 0 to 65535', 'sandbox'],
    [['deploy'], 'unknown command deploy', undefined],
    [['chek'], 'unknown command chek (did you mean check?)', undefined],
    [['help', 'explian'], 'unknown command explian (did you mean explain?)', undefined],
    [
      ['explain', '--confg', 'c.json'],
      'unknown option --confg for explain (did you mean --config?)',
      'explain',
    ],
    [['sandbox', '--prot', '8080'], 'unknown option --prot for sandbox (did you mean --port?)', 'sandbox'],
    [['check', '--jsno'], 'unknown option --jsno for check (did you mean --json?)', 'check'],
    [['explain', '-x'], 'unknown option -x for explain', 'explain'],
    [['check', '--operation', 'X'], 'unknown option --operation for check (an option of explain)', 'check'],
    [['explain', '--config'], '--config needs a value: --config FILE', 'explain'],
    [['explain', '--config', '--json'], '--config needs a value: --config FILE', 'explain'],
    [['sandbox', '--port'], '--port needs a value: --port N', 'sandbox'],
    [['explain', '--config', 'c', '--json=yes'], '--json takes no value', 'explain'],
    [
      ['--config', 'c'],
      '--config before a command: the command comes first (explain, check, sandbox)',
      undefined,
    ],
  ])('rejects %j with one line', (argv, message, command) => {
    const parsed = parseCliArgs(argv);
    expect(parsed).toEqual(command === undefined ? { ok: false, message } : { ok: false, message, command });
    expect(message).not.toContain('\n');
  });

  it('takes short options, inline values and -- before nothing', () => {
    expect(parseCliArgs(['explain', '-c', 'c.json', '--operation=StoreDICOM', '--'])).toEqual({
      ok: true,
      value: { command: 'explain', config: 'c.json', operation: 'StoreDICOM', json: false },
    });
  });

  it('never echoes a stray argument, or an unknown option or command that may be a token', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln';
    for (const argv of [
      ['explain', '--config', 'c.json', token],
      ['explain', '--config', 'c.json', '--', token],
      ['explain', `--${token}`],
      [token],
    ]) {
      const parsed = parseCliArgs(argv);
      expect(parsed.ok).toBe(false);
      expect(parsed.ok ? '' : parsed.message).not.toContain('eyJ');
    }
  });

  it('answers help for --help on any command, even after a mistake', () => {
    expect(parseCliArgs(['sandbox', '--help'])).toEqual({
      ok: true,
      value: { command: 'help', topic: 'sandbox' },
    });
    expect(parseCliArgs(['explain', '--confg', 'x', '-h'])).toEqual({
      ok: true,
      value: { command: 'help', topic: 'explain' },
    });
    expect(parseCliArgs(['help', 'check'])).toEqual({ ok: true, value: { command: 'help', topic: 'check' } });
    expect(parseCliArgs(['--help'])).toEqual({ ok: true, value: { command: 'help' } });
  });
});

describe('closestName', () => {
  it('suggests the known name a typo most likely meant, and nothing for a stranger', () => {
    const options = ['config', 'token', 'operation', 'datastore', 'now', 'jwks', 'json', 'help'];

    expect(closestName('confg', options)).toBe('config');
    expect(closestName('operaton', options)).toBe('operation');
    expect(closestName('jsn', options)).toBe('json');
    expect(closestName('data', options)).toBe('datastore');
    expect(closestName('verbose', options)).toBeUndefined();
    expect(closestName('x', options)).toBeUndefined();
  });

  it('counts two swapped neighbouring letters as one edit, so a transposition gets a suggestion', () => {
    expect(closestName('prot', ['port', 'idp-port', 'json'])).toBe('port');
    expect(closestName('jsno', ['config', 'json'])).toBe('json');
    expect(closestName('idp-prot', ['port', 'idp-port'])).toBe('idp-port');
    expect(closestName('memoryMB', ['memoryMb', 'stackName'])).toBe('memoryMb');
  });

  it('computes the Damerau-Levenshtein distance (optimal string alignment)', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('ca', 'abc')).toBe(3);
  });
});

describe('parseInstant', () => {
  it('reads ISO 8601 instants and epoch seconds', () => {
    expect(parseInstant('2026-11-23T12:00:00Z')).toEqual({ ok: true, ms: Date.UTC(2026, 10, 23, 12) });
    expect(parseInstant('2026-11-23T13:00:00+01:00')).toEqual({ ok: true, ms: Date.UTC(2026, 10, 23, 12) });
    expect(parseInstant('1763899200')).toEqual({ ok: true, ms: 1_763_899_200_000 });
  });

  it('rejects anything else', () => {
    expect(parseInstant('yesterday').ok).toBe(false);
    expect(parseInstant('2026-13-45T99:00:00Z').ok).toBe(false);
  });
});

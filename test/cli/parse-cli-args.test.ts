/**
 * argv parsing: each command's options become typed values; anything malformed is a usage error
 * whose message never repeats a stray argument (it may be a token).
 */

import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/parse-cli-args.ts';
import { parseInstant } from '../../src/cli/parse-instant.ts';

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
    [[], 'a command is required'],
    [['explain'], '--config FILE is required'],
    [['check'], '--config FILE is required'],
    [['sandbox', '--port', '70000'], 'expected a port number'],
    [['check', '--config', 'c', '--timeout', 'soon'], '--timeout'],
    [['deploy'], 'unknown command'],
  ])('rejects %j', (argv, message) => {
    const parsed = parseCliArgs(argv);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toContain(message);
  });

  it('never echoes a stray argument', () => {
    const parsed = parseCliArgs(['explain', '--config', 'c.json', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln']);
    expect(parsed.ok ? '' : parsed.message).not.toContain('eyJ');
  });

  it('answers help for --help on any command', () => {
    expect(parseCliArgs(['sandbox', '--help'])).toEqual({
      ok: true,
      value: { command: 'help', topic: 'sandbox' },
    });
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

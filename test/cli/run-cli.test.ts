/**
 * runCli's contract with the shell: a usage error is exactly two lines on stderr (the problem, then
 * the command that shows the relevant help) and exit 2; `help` / `--help` print the full usage on
 * stdout and exit 0; every command the CLI prints is in the one form the project runs it with.
 */

import { describe, expect, it } from 'vitest';
import { CLI_COMMAND } from '../../src/tools/cli/command-form.ts';
import { COMMAND_OPTIONS } from '../../src/tools/cli/parse-cli-args.ts';
import { runCli } from '../../src/tools/cli/run-cli.ts';
import { usage } from '../../src/tools/cli/usage.ts';
import { fakeIo } from '../support/fake-io.ts';

describe('usage errors', () => {
  it.each([
    [
      ['explain', '--confg', 'config.json'],
      'unknown option --confg for explain (did you mean --config?)',
      'explain --help',
    ],
    [['explian'], 'unknown command explian (did you mean explain?)', 'help'],
    [['check', '--timeout'], '--timeout needs a value: --timeout MS', 'check --help'],
    [
      ['sandbox', '--json', '--port', 'x'],
      '--port: expected a port number from 0 to 65535',
      'sandbox --help',
    ],
    [['explain'], 'explain needs --config FILE', 'explain --help'],
    [[], 'a command is required', 'help'],
  ])('%j: one line naming the problem, one hint line, exit 2', async (argv, problem, help) => {
    const io = fakeIo();

    const code = await runCli(argv, io);

    expect(code).toBe(2);
    expect(io.out).toBe('');
    expect(io.err).toBe(`error: ${problem}\nrun: ${CLI_COMMAND} ${help}\n`);
  });
});

describe('help', () => {
  it.each([[['help']], [['--help']], [['-h']]])('%j prints the full usage and exits 0', async (argv) => {
    const io = fakeIo();

    const code = await runCli(argv, io);

    expect(code).toBe(0);
    expect(io.err).toBe('');
    expect(io.out).toBe(usage());
    for (const command of ['explain', 'check', 'sandbox']) {
      expect(io.out).toContain(`${CLI_COMMAND} ${command} `);
    }
  });

  it('prints one command with its section for `COMMAND --help` and `help COMMAND`', async () => {
    const flag = fakeIo();
    const word = fakeIo();

    expect(await runCli(['check', '--help'], flag)).toBe(0);
    expect(await runCli(['help', 'check'], word)).toBe(0);

    expect(flag.out).toBe(usage('check'));
    expect(word.out).toBe(flag.out);
    expect(flag.out).toContain('--allowed-roles ARNS');
    expect(flag.out).not.toContain('--idp-port N  ');
  });

  it('shows each short flag beside its long form, as docs/cli.md documents them', () => {
    for (const [command, options] of Object.entries(COMMAND_OPTIONS)) {
      for (const [name, spec] of Object.entries(options)) {
        if (spec.short === undefined || name === 'help') continue;
        expect(usage(command), `${command} --${name}`).toContain(`  -${spec.short}, --${name} `);
      }
    }
  });

  it('prints commands only in the npm-script form, never npx', () => {
    expect(usage()).not.toMatch(/npx|^\s*ahi-authorizer (explain|check|sandbox)/m);
    expect(CLI_COMMAND).toBe('npm run -s ahi-authorizer --');
  });
});

/**
 * An in-memory CliIo for running commands in-process: captured stdout / stderr, a given stdin,
 * real file reads, and a stop signal the test fires.
 */

import { readFile } from 'node:fs/promises';
import type { CliIo } from '../../src/tools/cli/shared/cli-io.ts';

export interface FakeIo extends CliIo {
  out: string;
  err: string;
  stop(signal?: string): void;
}

export function fakeIo(
  options: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {},
): FakeIo {
  let stop: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const io: FakeIo = {
    out: '',
    err: '',
    stdout: (text) => {
      io.out += text;
    },
    stderr: (text) => {
      io.err += text;
    },
    readStdin: () => Promise.resolve(options.stdin ?? ''),
    stdinIsTTY: options.stdin === undefined,
    stdoutIsTTY: options.tty ?? false,
    env: options.env ?? {},
    readFile: (path) => readFile(path, 'utf8'),
    stopRequested: () => stopped,
    stop: (signal = 'SIGTERM') => stop(signal),
  };
  return io;
}

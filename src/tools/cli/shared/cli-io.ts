/**
 * Everything the CLI touches outside itself — output streams, stdin, files, environment, the
 * process's stop signals — behind one small interface, so commands run in-process in tests and
 * main.ts alone wires the real process.
 */

import { readFile } from 'node:fs/promises';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of stdin as UTF-8. */
  readStdin(): Promise<string>;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): Promise<string>;
  /** Resolves with the signal name when the process is asked to stop (SIGINT / SIGTERM). */
  stopRequested(): Promise<string>;
}

export function processIo(): CliIo {
  let stop: Promise<string> | undefined;
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin)
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      return Buffer.concat(chunks).toString('utf8');
    },
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    env: process.env,
    readFile: (path) => readFile(path, 'utf8'),
    stopRequested: () =>
      (stop ??= new Promise<string>((resolve) => {
        let stopping = false;
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) process.exit(130); // a second Ctrl-C: stop waiting for a clean shutdown
          stopping = true;
          resolve(signal);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      })),
  };
}

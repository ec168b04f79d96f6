/**
 * `ahi-authorizer sandbox` (what `npm start` runs): starts the sandbox, prints the banner (or one
 * JSON line with --json), logs each emulated request and the handler's warnings, and on SIGINT or
 * SIGTERM closes the OpenID Provider, the emulator and the handler process. Exit 0 after a clean
 * stop; 1 if it cannot start; 2 for an unreadable or invalid configuration.
 */

import { formatConfigIssues } from '../../core/config/schema.ts';
import type { CliIo } from '../cli/shared/cli-io.ts';
import type { SandboxArgs } from '../cli/parse-cli-args.ts';
import { renderRequestLog, renderSandboxBanner, sandboxJsonLine } from './render-sandbox-banner.ts';
import {
  DEFAULT_EMULATOR_PORT,
  SandboxConfigError,
  SandboxConfigReadError,
  type SandboxOptions,
  startSandbox,
} from './start-sandbox.ts';
import { errorCode, printReadFailure } from '../cli/shared/print-failure.ts';
import { createTerminalStyle, wantsColour } from '../cli/shared/terminal-style.ts';

/**
 * The handler's own WARN / ERROR lines are worth showing; its INFO lines are the request log's.
 * `json` is the line as the handler process parsed it (undefined when it is not JSON).
 */
function handlerLine(line: string, stream: 'stdout' | 'stderr', json: unknown): string | undefined {
  if (stream === 'stderr' || json === undefined || json === null) return `handler: ${line}\n`;
  const record = json as Record<string, unknown>;
  if (record['level'] === 'WARN' || record['level'] === 'ERROR') {
    const { ts: _ts, level, message, ...fields } = record;
    return `handler ${String(level)}: ${String(message)} ${JSON.stringify(fields)}\n`;
  }
  return undefined;
}

/**
 * Which option's port is taken: Node's listen error names the port, so an --idp-port that is busy is
 * told apart from the emulator's (--port, 8787 by default). A port given to both is the emulator's
 * failure (the IdP, started first, took it).
 */
function busyPort(args: SandboxArgs, error: unknown): { option: '--port' | '--idp-port'; port: number } {
  const emulatorPort = args.port ?? DEFAULT_EMULATOR_PORT;
  const failed = (error as { port?: unknown }).port;
  if (args.idpPort !== undefined && failed === args.idpPort && failed !== emulatorPort) {
    return { option: '--idp-port', port: args.idpPort };
  }
  return { option: '--port', port: emulatorPort };
}

export async function runSandboxCommand(args: SandboxArgs, io: CliIo): Promise<number> {
  const style = createTerminalStyle(wantsColour(io.stdoutIsTTY, io.env));
  const options: SandboxOptions = {
    onRequest: (entry) =>
      io.stdout(args.json ? `${JSON.stringify({ request: entry })}\n` : renderRequestLog(entry, style)),
    onHandlerLine: (line, stream, json) => {
      const text = handlerLine(line, stream, json);
      if (text !== undefined) io.stderr(text);
    },
  };
  if (args.profile !== undefined) options.profile = args.profile;
  if (args.config !== undefined) options.configPath = args.config;
  if (args.port !== undefined) options.port = args.port;
  if (args.idpPort !== undefined) options.idpPort = args.idpPort;
  if (args.datastore !== undefined) options.datastoreId = args.datastore;

  const stop = io.stopRequested();
  let sandbox;
  try {
    sandbox = await startSandbox(options);
  } catch (error) {
    if (error instanceof SandboxConfigError) {
      io.stderr(
        `ahi-authorizer: ${error.file} is not a valid configuration:\n${formatConfigIssues(error.issues)}\n`,
      );
      return 2;
    }
    if (error instanceof SandboxConfigReadError) {
      printReadFailure(io, 'sandbox', 'config', error.file, error.cause);
      return 2;
    }
    if (errorCode(error) === 'EADDRINUSE') {
      const { option, port } = busyPort(args, error);
      io.stderr(
        `ahi-authorizer: port ${port} is in use: pass ${option} with another port, or ${option} 0 for a free one\n`,
      );
      return 1;
    }
    io.stderr(
      `ahi-authorizer: the sandbox could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  io.stdout(args.json ? `${sandboxJsonLine(sandbox)}\n` : renderSandboxBanner(sandbox, style));
  const signal = await stop;
  if (!args.json) io.stderr(`\n${signal}: stopping the sandbox…\n`);
  await sandbox.close();
  return 0;
}

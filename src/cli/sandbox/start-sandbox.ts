/**
 * The sandbox's composition root: an embedded OpenID Provider with demo clients, the configuration
 * the handler loads (the placeholder issuer replaced by the provider's), the built Lambda bundle in
 * a child process, and the HealthImaging emulator in front of it — all on 127.0.0.1. Returns the
 * URLs and clients, and a close() that stops everything (used by `ahi-authorizer sandbox` on
 * SIGINT/SIGTERM, and by tests on random ports).
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Clock, systemClock } from '../../clock.ts';
import type { ConfigIssue } from '../../config/schema.ts';
import { DATASTORE_ID_PATTERN } from '../../contract/healthimaging.ts';
import { findPackageRoot } from './find-package-root.ts';
import { prepareSandboxConfig } from './prepare-sandbox-config.ts';
import {
  type EmulatorRequestLog,
  type HealthImagingEmulator,
  startHealthImagingEmulator,
} from './start-healthimaging-emulator.ts';
import { type HandlerProcess, startHandlerProcess } from './start-handler-process.ts';
import {
  type OidcProviderClient,
  type RunningOidcProvider,
  startOidcProvider,
} from './start-oidc-provider.ts';

/** Used when the config has no datastores allowlist and none is given. */
export const SANDBOX_DATASTORE_ID = 'sandbox0000000000000000000000ahi';
export const DEFAULT_EMULATOR_PORT = 8787;

export interface SandboxOptions {
  /** Default: sandbox/config.json of this package. */
  configPath?: string;
  /** The emulator's port; 0 picks a free one. Default 8787. */
  port?: number;
  /** The embedded IdP's port; default 0 (a free one). */
  idpPort?: number;
  /** Default: the config's first datastore, else SANDBOX_DATASTORE_ID. */
  datastoreId?: string;
  /**
   * Default: dist/authorizer/authorizer.mjs of this package (run `npm run build` first): the Lambda's
   * code as the `createAuthorizer` factory, so the sandbox injects its own log writer.
   */
  handlerPath?: string;
  /** HealthImaging's limit for the authorizer; default 1 000 ms. */
  limitMs?: number;
  /** For HealthImaging's pre-checks; default the system clock. */
  now?: Clock;
  onRequest?: (entry: EmulatorRequestLog) => void;
  onHandlerLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface Sandbox {
  /** The embedded IdP's issuer, e.g. http://127.0.0.1:40123 */
  issuer: string;
  tokenEndpoint: string;
  /** The audience of the embedded IdP's tokens. */
  audience: string;
  clients: OidcProviderClient[];
  /** The emulator's DICOMweb base URL, ending in /datastore/<id>. */
  dicomweb: string;
  datastoreId: string;
  /** The configuration file given (or the bundled sandbox config). */
  configPath: string;
  /** The configuration the handler loads (placeholder issuer replaced); removed on close(). */
  effectiveConfigPath: string;
  /** Whether that configuration trusts the embedded IdP (false for a user's own config). */
  trustsEmbeddedIdp: boolean;
  handlerPath: string;
  /** The handler process's pid while it runs. */
  handlerPid(): number | undefined;
  /** A client-credentials token from the embedded IdP (its full scope unless given). */
  getToken(clientId: string, options?: { scope?: string }): Promise<string>;
  close(): Promise<void>;
}

export class SandboxConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file} is not a valid configuration`);
    this.name = 'SandboxConfigError';
  }
}

/** The handler's environment: ours without any AUTHORIZER_* / Lambda variables, plus its config. */
function handlerEnv(configFile: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AUTHORIZER_') && !name.startsWith('AWS_LAMBDA_')) env[name] = value;
  }
  env['AUTHORIZER_CONFIG_FILE'] = configFile;
  // Started before the first request, like provisioned concurrency (which AHI recommends): init
  // loads the config and prefetches the keys with the longer init budget.
  env['AWS_LAMBDA_INITIALIZATION_TYPE'] = 'provisioned-concurrency';
  env['AWS_LAMBDA_FUNCTION_NAME'] = 'ahi-authorizer-sandbox';
  // As the stack deploys it: subjects logged as a keyed hash (a new key per sandbox run).
  env['AUTHORIZER_AUDIT_HASH_KEY'] = randomBytes(32).toString('base64url');
  return env;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const root = findPackageRoot(import.meta.url);
  const configPath = resolve(options.configPath ?? join(root, 'sandbox', 'config.json'));
  const handlerPath = resolve(options.handlerPath ?? join(root, 'dist', 'authorizer', 'authorizer.mjs'));
  if (!existsSync(handlerPath)) {
    throw new Error(`${handlerPath} does not exist: run \`npm run build\` first`);
  }
  const configText = await readFile(configPath, 'utf8');

  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const provider: RunningOidcProvider = await startOidcProvider({ port: options.idpPort ?? 0 });
    cleanups.push(() => provider.close());

    const prepared = prepareSandboxConfig(configText, provider.issuer);
    if (!prepared.ok) throw new SandboxConfigError(configPath, prepared.issues);
    const datastoreId = options.datastoreId ?? prepared.config.datastores?.[0] ?? SANDBOX_DATASTORE_ID;
    if (!DATASTORE_ID_PATTERN.test(datastoreId)) {
      throw new Error(`datastore id ${JSON.stringify(datastoreId)} is not 32 characters of [0-9a-z]`);
    }

    const dir = await mkdtemp(join(tmpdir(), 'ahi-sandbox-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const effectiveConfigPath = join(dir, 'config.json');
    await writeFile(effectiveConfigPath, prepared.text, { mode: 0o600 });

    const handler: HandlerProcess = startHandlerProcess({
      handlerPath,
      env: handlerEnv(effectiveConfigPath),
      ...(options.onHandlerLine === undefined ? {} : { onLine: options.onHandlerLine }),
    });
    cleanups.push(() => handler.close());
    await handler.start();

    const emulator: HealthImagingEmulator = await startHealthImagingEmulator({
      port: options.port ?? DEFAULT_EMULATOR_PORT,
      invoke: (event, limitMs) => handler.invoke(event, limitMs),
      now: options.now ?? systemClock,
      ...(options.limitMs === undefined ? {} : { limitMs: options.limitMs }),
      ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }),
    });
    cleanups.push(() => emulator.close());

    let closing: Promise<void> | undefined;
    return {
      issuer: provider.issuer,
      tokenEndpoint: provider.tokenEndpoint,
      audience: provider.audience,
      clients: provider.clients,
      dicomweb: `${emulator.url}/datastore/${datastoreId}`,
      datastoreId,
      configPath,
      effectiveConfigPath,
      trustsEmbeddedIdp: prepared.trustsEmbeddedIdp,
      handlerPath,
      handlerPid: () => handler.pid(),
      getToken: (clientId, tokenOptions) => provider.getToken(clientId, tokenOptions),
      close: () => (closing ??= cleanUp()),
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

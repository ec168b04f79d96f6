/**
 * The sandbox's composition root, all on 127.0.0.1: an identity provider (the embedded OpenID
 * Provider, or a profile's IdP from idp-profiles.ts), the configuration the handler loads, the
 * Lambda bundle in a child process and the HealthImaging emulator in front. It decides the banner's
 * examples with the real handler; close() stops everything.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Clock, systemClock } from '../../core/kernel/clock.ts';
import type { ConfigIssue } from '../../core/config/schema.ts';
import { DATASTORE_ID_PATTERN } from '../../core/contract/healthimaging.ts';
import { routeDicomweb } from './route-dicomweb.ts';
import { findPackageRoot } from './find-package-root.ts';
import {
  DEFAULT_PROFILE,
  findProfile,
  type IdpProfile,
  type ProfileExample,
  type PromisedOutcome,
} from './idp-profiles.ts';
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
import { type RunningProfileIdp, startProfileIdp, TOKENS_PATH } from './start-profile-idp.ts';

/** Used when the config has no datastores allowlist and none is given. */
export const SANDBOX_DATASTORE_ID = 'sandbox0000000000000000000000ahi';
export const DEFAULT_EMULATOR_PORT = 8787;

export interface SandboxOptions {
  /**
   * `default` (the embedded OpenID Provider, as without it) or an IdP profile's name, whose guide
   * configuration the handler then loads (so no `configPath` with it).
   */
  profile?: string;
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
  /**
   * Default true: decide the banner's example requests with the handler before returning. false
   * leaves `examples` empty and the handler uninvoked (tests of handlers that hang or crash).
   */
  decideExamples?: boolean;
  /** For HealthImaging's pre-checks; default the system clock. */
  now?: Clock;
  onRequest?: (entry: EmulatorRequestLog) => void;
  onHandlerLine?: (line: string, stream: 'stdout' | 'stderr', json?: unknown) => void;
}

/** Where the banner's tokens come from. */
export type SandboxTokenSource =
  | { kind: 'client-credentials'; name: string; clientSecret: string; scope: string; tokenEndpoint: string }
  | { kind: 'mint'; name: string; summary: string; url: string };

/** One of the banner's example requests, as the handler decided it when the sandbox started. */
export interface ExampleOutcome {
  title: string;
  /** The token source's name. */
  token: string;
  method: 'GET' | 'POST';
  /** Below the DICOMweb base. */
  path: string;
  operation?: string;
  /** What the guide (or, for the embedded provider, sandbox/README.md) promises; absent for a config of your own. */
  promise?: PromisedOutcome;
  /** The emulator's answer: 200, 403, 408, 424 (0: no token could be obtained). */
  status: number;
  message: string;
  reason?: string;
  rule?: string;
  roleArn?: string;
  /** Whether the decision is the promised one (absent without a promise). */
  kept?: boolean;
}

export interface Sandbox {
  /** `default` or the IdP profile's name. */
  profile: string;
  /** The profile's one-line description (IdP profiles only). */
  profileTitle?: string;
  /** The (first) issuer the handler trusts on loopback, e.g. http://127.0.0.1:40123 */
  issuer: string;
  /** Every issuer on loopback, with the public issuer a profile's stands for. */
  issuers: { url: string; standsFor?: string }[];
  /** The embedded provider's token endpoint; a profile's mint endpoint (`…/sandbox/tokens`, POST `/<name>`). */
  tokenEndpoint: string;
  /** The audience of the embedded IdP's tokens ('' with a profile, whose tokens carry their IdP's). */
  audience: string;
  /** The embedded provider's demo clients (none with a profile). */
  clients: OidcProviderClient[];
  /** The emulator's DICOMweb base URL, ending in /datastore/<id>. */
  dicomweb: string;
  datastoreId: string;
  /** The configuration file given (or the bundled sandbox config, or a profile's guide). */
  configPath: string;
  /** Where the configuration comes from, for the banner. */
  configSource: string;
  /** The configuration the handler loads (placeholder issuer replaced); removed on close(). */
  effectiveConfigPath: string;
  /** Whether that configuration trusts the embedded IdP (false for a user's own config). */
  trustsEmbeddedIdp: boolean;
  handlerPath: string;
  /** The handler process's pid while it runs. */
  handlerPid(): number | undefined;
  /** The tokens the banner offers, in the order of their first example. */
  tokenSources: SandboxTokenSource[];
  /** The banner's example requests, decided by the handler at start. */
  examples: ExampleOutcome[];
  /**
   * A token from the sandbox's IdP: the embedded provider's client-credentials token for a client id
   * (its full scope unless given), or a profile's minted token by name.
   */
  getToken(name: string, options?: { scope?: string }): Promise<string>;
  close(): Promise<void>;
}

/**
 * The embedded provider's examples, as sandbox/README.md describes them for sandbox/config.json:
 * the reader may search but not store, the writer may store.
 */
const DEFAULT_EXAMPLES: readonly ProfileExample[] = [
  {
    title: 'the reader searches studies',
    token: 'dicom-reader',
    method: 'GET',
    path: '/studies',
    promise: { reason: 'allowed', roleArn: 'arn:aws:iam::111122223333:role/SandboxDicomReadOnly' },
  },
  {
    title: 'the reader stores an instance',
    token: 'dicom-reader',
    method: 'POST',
    path: '/studies',
    promise: { reason: 'operation_not_permitted' },
  },
  {
    title: 'the writer stores an instance',
    token: 'dicom-writer',
    method: 'POST',
    path: '/studies',
    promise: { reason: 'allowed', roleArn: 'arn:aws:iam::111122223333:role/SandboxDicomReadWrite' },
  },
];

/** Runs each example through the emulator (the real handler), as a client would send it. */
async function decideExamples(
  examples: readonly ProfileExample[],
  promisesApply: boolean,
  getToken: (name: string) => Promise<string>,
  emulator: HealthImagingEmulator,
  datastoreId: string,
): Promise<ExampleOutcome[]> {
  const outcomes: ExampleOutcome[] = [];
  for (const example of examples) {
    const { title, token: name, method, path, promise } = example;
    const outcome: ExampleOutcome = { title, token: name, method, path, status: 0, message: '' };
    const url = `/datastore/${datastoreId}${path}`;
    const route = routeDicomweb(method, url);
    if (route.ok) outcome.operation = route.operation;
    if (promisesApply) outcome.promise = promise;
    let token: string | undefined;
    try {
      token = await getToken(name);
    } catch (error) {
      outcome.message = `no token: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (token !== undefined) {
      const answer = await emulator.answer({ method, url, authorization: `Bearer ${token}` });
      outcome.status = answer.status;
      outcome.message = answer.log.message;
      if (answer.log.reason !== undefined) outcome.reason = answer.log.reason;
      if (answer.log.rule !== undefined) outcome.rule = answer.log.rule;
      if (answer.log.roleArn !== undefined) outcome.roleArn = answer.log.roleArn;
    }
    if (promisesApply) {
      outcome.kept = outcome.reason === promise.reason && outcome.roleArn === promise.roleArn;
    }
    outcomes.push(outcome);
  }
  return outcomes;
}

/** The token sources the examples use, in order of first use. */
function usedTokens<T extends { name: string }>(examples: readonly ProfileExample[], sources: T[]): T[] {
  const names = [...new Set(examples.map((example) => example.token))];
  return names.flatMap((name) => sources.filter((source) => source.name === name));
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

/** The configuration file cannot be read (a missing file, a directory …): a usage problem, not a start failure. */
export class SandboxConfigReadError extends Error {
  constructor(
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(`cannot read config ${file}`);
    this.name = 'SandboxConfigReadError';
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
  const profileName = options.profile ?? DEFAULT_PROFILE;
  if (profileName === DEFAULT_PROFILE) return startEmbeddedSandbox(options);
  const profile = findProfile(profileName);
  if (profile === undefined) throw new Error(`unknown sandbox profile ${JSON.stringify(profileName)}`);
  if (options.configPath !== undefined) {
    throw new Error(
      `the ${profile.name} profile runs ${profile.guide.file}'s configuration: leave out --config`,
    );
  }
  return startProfileSandbox(profile, options);
}

interface Parts {
  configText: string;
  configPath: string;
  handlerPath: string;
}

/** The built handler the sandbox runs: `options.handlerPath`, else the package's own build. */
function locateHandler(root: string, options: SandboxOptions): string {
  const handlerPath = resolve(options.handlerPath ?? join(root, 'dist', 'authorizer', 'authorizer.mjs'));
  if (!existsSync(handlerPath)) {
    throw new Error(`${handlerPath} does not exist: run \`npm run build\` first`);
  }
  return handlerPath;
}

/** Cleanups run in reverse on failure or close(). */
class Cleanups {
  private readonly steps: (() => Promise<void>)[] = [];
  private closing: Promise<void> | undefined;

  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.closing ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) await step().catch(() => undefined);
    })();
    return this.closing;
  }
}

/** The handler process and the emulator in front of it, for a prepared configuration. */
async function startGate(
  parts: Parts,
  issuerForPlaceholder: string,
  options: SandboxOptions,
  cleanups: Cleanups,
) {
  const prepared = prepareSandboxConfig(parts.configText, issuerForPlaceholder);
  if (!prepared.ok) throw new SandboxConfigError(parts.configPath, prepared.issues);
  const datastoreId = options.datastoreId ?? prepared.config.datastores?.[0] ?? SANDBOX_DATASTORE_ID;
  if (!DATASTORE_ID_PATTERN.test(datastoreId)) {
    throw new Error(`datastore id ${JSON.stringify(datastoreId)} is not 32 characters of [0-9a-z]`);
  }

  const dir = await mkdtemp(join(tmpdir(), 'ahi-sandbox-'));
  cleanups.add(() => rm(dir, { recursive: true, force: true }));
  const effectiveConfigPath = join(dir, 'config.json');
  await writeFile(effectiveConfigPath, prepared.text, { mode: 0o600 });

  const handler: HandlerProcess = startHandlerProcess({
    handlerPath: parts.handlerPath,
    env: handlerEnv(effectiveConfigPath),
    ...(options.onHandlerLine === undefined ? {} : { onLine: options.onHandlerLine }),
  });
  cleanups.add(() => handler.close());
  await handler.start();

  const emulator: HealthImagingEmulator = await startHealthImagingEmulator({
    port: options.port ?? DEFAULT_EMULATOR_PORT,
    invoke: (event, limitMs) => handler.invoke(event, limitMs),
    now: options.now ?? systemClock,
    ...(options.limitMs === undefined ? {} : { limitMs: options.limitMs }),
    ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }),
  });
  cleanups.add(() => emulator.close());
  return { prepared, datastoreId, effectiveConfigPath, handler, emulator };
}

type Gate = Awaited<ReturnType<typeof startGate>>;

/** What a sandbox reports about its handler and emulator, whichever IdP it runs. */
function gateFields(gate: Gate, handlerPath: string, cleanups: Cleanups) {
  return {
    dicomweb: `${gate.emulator.url}/datastore/${gate.datastoreId}`,
    datastoreId: gate.datastoreId,
    effectiveConfigPath: gate.effectiveConfigPath,
    handlerPath,
    handlerPid: () => gate.handler.pid(),
    close: () => cleanups.run(),
  };
}

async function startEmbeddedSandbox(options: SandboxOptions): Promise<Sandbox> {
  const root = findPackageRoot(import.meta.url);
  const bundledConfig = join(root, 'sandbox', 'config.json');
  const configPath = resolve(options.configPath ?? bundledConfig);
  let configText: string;
  try {
    configText = await readFile(configPath, 'utf8');
  } catch (error) {
    throw new SandboxConfigReadError(options.configPath ?? configPath, error);
  }
  const handlerPath = locateHandler(root, options);

  const cleanups = new Cleanups();
  try {
    const provider: RunningOidcProvider = await startOidcProvider({ port: options.idpPort ?? 0 });
    cleanups.add(() => provider.close());
    const gate = await startGate({ configText, configPath, handlerPath }, provider.issuer, options, cleanups);

    const getToken = (name: string, tokenOptions?: { scope?: string }) =>
      provider.getToken(name, tokenOptions);
    const sources: SandboxTokenSource[] = provider.clients.map((client) => ({
      kind: 'client-credentials',
      name: client.clientId,
      clientSecret: client.clientSecret,
      scope: client.scope,
      tokenEndpoint: provider.tokenEndpoint,
    }));
    const examples = await decideExamples(
      options.decideExamples === false ? [] : DEFAULT_EXAMPLES,
      configPath === bundledConfig,
      (name) => getToken(name),
      gate.emulator,
      gate.datastoreId,
    );
    return {
      profile: DEFAULT_PROFILE,
      issuer: provider.issuer,
      issuers: [{ url: provider.issuer }],
      tokenEndpoint: provider.tokenEndpoint,
      audience: provider.audience,
      clients: provider.clients,
      configPath,
      configSource: configPath,
      trustsEmbeddedIdp: gate.prepared.trustsEmbeddedIdp,
      tokenSources: usedTokens(DEFAULT_EXAMPLES, sources),
      examples,
      getToken,
      ...gateFields(gate, handlerPath, cleanups),
    };
  } catch (error) {
    await cleanups.run();
    throw error;
  }
}

async function startProfileSandbox(profile: IdpProfile, options: SandboxOptions): Promise<Sandbox> {
  const handlerPath = locateHandler(findPackageRoot(import.meta.url), options);
  const cleanups = new Cleanups();
  try {
    const idp: RunningProfileIdp = await startProfileIdp(profile, {
      port: options.idpPort ?? 0,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    cleanups.add(() => idp.close());
    const configPath = profile.guide.file;
    const configText = `${JSON.stringify(idp.config, null, 2)}\n`;
    const gate = await startGate({ configText, configPath, handlerPath }, idp.origin, options, cleanups);

    const getToken = (name: string) => idp.getToken(name);
    const sources: SandboxTokenSource[] = profile.tokens.map(({ name, summary }) => ({
      kind: 'mint',
      name,
      summary,
      url: idp.tokenUrl(name),
    }));
    const examples = await decideExamples(
      options.decideExamples === false ? [] : profile.examples,
      true,
      getToken,
      gate.emulator,
      gate.datastoreId,
    );
    return {
      profile: profile.name,
      profileTitle: profile.title,
      issuer: idp.issuers[0]?.url ?? idp.origin,
      issuers: idp.issuers,
      tokenEndpoint: `${idp.origin}${TOKENS_PATH}`,
      audience: '',
      clients: [],
      configPath,
      configSource: `${profile.guide.file}, json block ${profile.guide.block + 1}, with its issuer and JWKS URLs on 127.0.0.1`,
      trustsEmbeddedIdp: true,
      tokenSources: usedTokens(profile.examples, sources),
      examples,
      getToken,
      ...gateFields(gate, handlerPath, cleanups),
    };
  } catch (error) {
    await cleanups.run();
    throw error;
  }
}

/**
 * The CDK app (`cdk.json` runs it with tsx): the only place that reads context, files and the
 * environment. It parses the deployment settings (infra/deploy-settings.ts), reads the config file,
 * declares the stack and runs the cdk-nag packs. Expected mistakes end with one clear message and
 * exit code 1, not a stack trace.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { addNagChecks } from './add-nag-checks.ts';
import { AuthorizerStack } from './authorizer-stack.ts';
import { AuthorizerConfigError } from './check-authorizer-config.ts';
import { parseDeploySettings, shownPath } from './deploy-settings.ts';
import { DEFAULT_DIST_DIRECTORY } from './healthimaging-authorizer.ts';
import { stackPropsFromSettings } from './stack-from-settings.ts';
import { SynthError } from './synth-errors.ts';

class UsageError extends SynthError {}

function main(): void {
  const app = new App();
  // All of it (cdk.json, -c, CDK's own keys): a key that is almost a setting's name is refused.
  const context = app.node.getAllContext() as Record<string, unknown>;
  const settings = parseDeploySettings({
    context,
    readFile: (path) => readFileSync(path, 'utf8'),
    cwd: process.cwd(),
    // The CDK CLI sets these from its credentials; without credentials synth uses placeholders.
    defaultEnv: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
  });

  if (!existsSync(join(DEFAULT_DIST_DIRECTORY, 'handler.mjs'))) {
    throw new UsageError(
      'dist/handler.mjs is missing: run `npm run build` (cdk.json runs it before each synth)',
    );
  }
  if (
    settings.createDatastore &&
    !existsSync(join(DEFAULT_DIST_DIRECTORY, 'custom-resources', 'create-datastore.mjs'))
  ) {
    throw new UsageError('dist/custom-resources/create-datastore.mjs is missing: run `npm run build`');
  }
  if (!existsSync(settings.configPath)) {
    throw new UsageError(
      `config file not found: ${shown(settings.configPath)} (named by ${shown(settings.settingsPath)})`,
    );
  }
  const configSource = shown(settings.configPath);
  const caBundle =
    settings.caBundlePath === undefined
      ? undefined
      : readCaBundle(settings.caBundlePath, settings.settingsPath);

  new AuthorizerStack(
    app,
    settings.stackName,
    stackPropsFromSettings(settings, readFileSync(settings.configPath, 'utf8'), configSource, caBundle),
  );
  if (settings.accountIsPlaceholder) {
    console.error(
      `note: no AWS account known (no account in the settings, no CLI credentials): synthesizing for ` +
        `placeholder account ${settings.account}, region ${settings.region}. Deploys need real credentials.`,
    );
  }

  addNagChecks(app);
  app.synth();
}

/** A path as the user knows it: relative when inside the working directory. */
const shown = (path: string): string => shownPath(path, process.cwd());

/** The caBundle file's text; the construct validates it (an invalid bundle fails naming the setting too). */
function readCaBundle(path: string, settingsPath: string): { pem: string; source: string } {
  try {
    return { pem: readFileSync(path, 'utf8'), source: shown(path) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(
      `caBundle: cannot read ${shown(path)}${typeof code === 'string' ? ` (${code})` : ''} (named by ${shown(settingsPath)})`,
    );
  }
}

try {
  main();
} catch (error) {
  // SynthError: the settings', the constructs' and the app's own; the config check's is separate.
  if (error instanceof SynthError || error instanceof AuthorizerConfigError) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

/**
 * Every authorizer configuration the docs print or ship (```json blocks under docs/ and in the README
 * other than deployment settings, examples/*.json, deploy/*.config.json) deploys as printed:
 * synthesized into the default stack, it passes the role allowlist and config lint
 * (infra/check-authorizer-config.ts) that a reader's `cdk synth` runs.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { HealthImagingAuthorizer } from '../../infra/healthimaging-authorizer.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** The stack name the docs' role ARNs are written for (HealthImagingAuthorizer-AhiReadOnly, …). */
const DOCUMENTED_STACK = 'HealthImagingAuthorizer';

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => join(dir, file));
}

/** [where, JSON text] for each configuration the docs print or ship. */
function documentedConfigs(): [string, string][] {
  const fromMarkdown = [
    'README.md',
    ...markdownFiles(join(ROOT, 'docs')).map((file) => relative(ROOT, file)),
  ].flatMap((file) =>
    [
      ...readFileSync(join(ROOT, file), 'utf8').matchAll(
        /^(<!-- deploy-settings: [^>]*-->\n\n?)?```json\n([\s\S]*?)^```$/gm,
      ),
    ]
      .filter((match) => match[1] === undefined)
      .map((match, index): [string, string] => [`${file} json block ${index + 1}`, match[2]!]),
  );
  const files = [
    ...readdirSync(join(ROOT, 'examples'))
      .filter((file) => file.endsWith('.json'))
      .map((file) => join('examples', file)),
    ...readdirSync(join(ROOT, 'deploy'))
      .filter((file) => file.endsWith('.config.json'))
      .map((file) => join('deploy', file)),
  ].map((file): [string, string] => [file, readFileSync(join(ROOT, file), 'utf8')]);
  return [...fromMarkdown, ...files];
}

describe('configurations in the docs and examples', () => {
  const configs = documentedConfigs();

  it('are found: the guides, the examples and the deploy example', () => {
    expect(configs.length).toBeGreaterThanOrEqual(8);
    expect(configs.map(([where]) => where)).toEqual(
      expect.arrayContaining(['examples/config.example.json', 'deploy/example.config.json']),
    );
  });

  it.each(configs)('%s synthesizes into the documented stack', (where, text) => {
    // Arrange
    const stack = new Stack(new App(), DOCUMENTED_STACK, {
      env: { account: '111122223333', region: 'us-east-1' },
    });

    // Act
    new HealthImagingAuthorizer(stack, 'Authorizer', {
      configJson: text,
      configSource: where,
      datastores: '*',
    });
    const template = Template.fromStack(stack);

    // Assert
    template.resourceCountIs('AWS::Lambda::Function', 1);
  });
});

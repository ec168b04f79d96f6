/**
 * The core's folders form layers, so each reads knowing only those below: kernel, reason codes,
 * HealthImaging contract, configuration, audit line, the token, key and rule stages, pipeline
 * (authorize.ts), composition root (lambda/), entry (handler.ts). Every import points down or stays in
 * its folder; an upward one fails, naming the file.
 */

import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Lower numbers are lower layers; folders on one layer may not import each other. */
const LAYERS: Readonly<Record<string, number>> = {
  kernel: 0,
  decision: 1,
  contract: 2,
  config: 3,
  observability: 4,
  token: 5,
  keys: 5,
  policy: 5,
  authorize: 6,
  lambda: 7,
  handler: 8,
};

/** A core file's unit: its folder under src/core, or the file's own name (authorize, handler). */
function unitOf(path: string): string {
  const [unit = ''] = path.slice('src/core/'.length).split('/');
  return unit.replace(/\.ts$/, '');
}

it('has every core import point to a lower layer or stay in its folder', () => {
  // Arrange
  const files = execFileSync('git', ['ls-files', 'src/core'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file.endsWith('.ts'));

  // Act
  const upward = files.flatMap((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    return [...text.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)].flatMap((match) => {
      const target = relative(ROOT, normalize(join(ROOT, dirname(file), match[1]!)));
      if (!target.startsWith('src/core/')) return [`${file}: imports ${target}, outside the core`];
      const [from, to] = [unitOf(file), unitOf(target)];
      if (from === to) return [];
      const [fromLayer, toLayer] = [LAYERS[from], LAYERS[to]];
      if (fromLayer === undefined || toLayer === undefined) return [`${file}: ${from} or ${to} has no layer`];
      return toLayer < fromLayer
        ? []
        : [`${file}: ${from} (layer ${fromLayer}) imports ${to} (layer ${toLayer})`];
    });
  });

  // Assert
  expect(files.length).toBeGreaterThan(40);
  expect(upward).toEqual([]);
});

/**
 * Finds this package's root directory from a module URL, so the CLI locates the built authorizer
 * and sandbox/config.json the same way whether it runs as the bundle (dist/cli.mjs), from the sources
 * (tests), or installed under node_modules.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'healthimaging-oidc-authorizer';

export function findPackageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME)
          return dir;
      } catch {
        // An unreadable package.json on the way up is not ours.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${moduleUrl}`);
    dir = parent;
  }
}

/**
 * The lint rule that keeps the core apart from the tools (eslint.config.js, ADR 0007) fires: a file
 * under src/core that imports from src/tools, src/custom-resources or infra is an error, and the
 * same import from a tool is not. Linted with the project's own configuration, type checks off
 * (the probe files do not exist on disk).
 */

import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** A file that does not exist, under src/<folders>: only its path decides which rules apply. */
const probe = (...folders: string[]) => ['src', ...folders, 'probe.ts'].join('/');

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: [
      { files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked },
      { files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false, project: null } } },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

describe('the core/tools lint boundary', () => {
  it.each([
    [
      probe('core', 'token'),
      "import { showValue } from '../../tools/cli/shared/show-value.ts';\nvoid showValue;\n",
    ],
    [probe('core'), "import { onEvent } from '../custom-resources/create-datastore.ts';\nvoid onEvent;\n"],
    [
      probe('core', 'lambda'),
      "import { AuthorizerStack } from '../../../infra/authorizer-stack.ts';\nvoid AuthorizerStack;\n",
    ],
  ])('refuses %s importing outside the core', async (file, code) => {
    expect(await ruleIds(file, code)).toContain('no-restricted-imports');
  });

  it('lets a tool import the core', async () => {
    // Act
    const ids = await ruleIds(
      probe('tools', 'cli'),
      "import { REASONS } from '../../core/decision/reason-codes.ts';\nvoid REASONS;\n",
    );

    // Assert
    expect(ids).not.toContain('no-restricted-imports');
  });

  it('applies the rule to the core only: the import it refuses in the core passes in a tool', async () => {
    // Arrange: one import the rule forbids, from the same depth in both folders
    const code =
      "import { AuthorizerStack } from '../../../infra/authorizer-stack.ts';\nvoid AuthorizerStack;\n";

    // Act
    const inCore = await ruleIds(probe('core', 'lambda'), code);
    const inTool = await ruleIds(probe('tools', 'cli'), code);

    // Assert
    expect(inCore).toContain('no-restricted-imports');
    expect(inTool).not.toContain('no-restricted-imports');
  });
});

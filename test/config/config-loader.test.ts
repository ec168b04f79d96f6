import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigEvent, createConfigLoader } from '../../src/core/config/config-loader.ts';
import { contentVersion } from '../../src/core/config/content-version.ts';
import { formatConfigIssues } from '../../src/core/config/schema.ts';
import type { SsmParameterReader } from '../../src/core/config/ssm-parameter-reader.ts';
import {
  DUPLICATE_KEY_CONFIG_TEXT,
  DUPLICATE_KEY_ISSUE,
  TYPO_CONFIG_TEXT,
  TYPO_ISSUE,
  validConfigText,
} from '../support/fixtures/config.ts';

const live = () => new AbortController().signal;

/** An SSM reader that must not be used: these tests are about the other sources. */
const unusedSsm: SsmParameterReader = {
  read: () => {
    throw new Error('SSM must not be read');
  },
};

describe('createConfigLoader with inline configuration', () => {
  it('loads valid inline JSON with a content-hash version', async () => {
    // Arrange
    const text = validConfigText();
    const events: ConfigEvent[] = [];
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG: text },
      ssm: unusedSsm,
      onEvent: (e) => events.push(e),
    });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state.ok).toBe(true);
    if (!state.ok) return;
    expect(state.loaded.source).toBe('inline');
    expect(state.loaded.version).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(state.loaded.version).toBe(contentVersion(text));
    expect(state.loaded.config.rules[0]?.name).toBe('readers');
    expect(state.loaded.config.issuers[0]?.algorithms).toEqual(['RS256']);
    expect(events).toEqual([{ type: 'config_loaded', source: 'inline', version: state.loaded.version }]);
  });

  it('reports a typo key as config_invalid with its exact JSON path', async () => {
    // Arrange
    const events: ConfigEvent[] = [];
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG: TYPO_CONFIG_TEXT },
      onEvent: (e) => events.push(e),
    });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toEqual({
      ok: false,
      reason: 'config_invalid',
      detail: '$.issuers[0].audiance: unknown key (check for a typo)',
      issues: [TYPO_ISSUE],
    });
    expect(events).toEqual([
      {
        type: 'config_rejected',
        source: 'inline',
        version: contentVersion(TYPO_CONFIG_TEXT),
        issues: [TYPO_ISSUE],
      },
    ]);
  });

  it('rejects inline JSON that repeats a key, naming its JSON path', async () => {
    // Arrange
    const events: ConfigEvent[] = [];
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG: DUPLICATE_KEY_CONFIG_TEXT },
      onEvent: (e) => events.push(e),
    });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toEqual({
      ok: false,
      reason: 'config_invalid',
      detail: '$.rules[0].operations: duplicate key "operations" (JSON keeps only the last one)',
      issues: [DUPLICATE_KEY_ISSUE],
    });
    expect(events).toEqual([
      {
        type: 'config_rejected',
        source: 'inline',
        version: contentVersion(DUPLICATE_KEY_CONFIG_TEXT),
        issues: [DUPLICATE_KEY_ISSUE],
      },
    ]);
  });

  it('reports text that is not JSON as config_invalid at path $', async () => {
    // Arrange
    const loader = createConfigLoader({ env: { AUTHORIZER_CONFIG: '{"issuers": [' } });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state.ok).toBe(false);
    if (state.ok) return;
    expect(state.reason).toBe('config_invalid');
    expect(state.issues).toHaveLength(1);
    expect(state.issues?.[0]?.path).toBe('$');
    expect(state.issues?.[0]?.message).toMatch(/^not valid JSON: /);
    expect(state.detail).toBe(formatConfigIssues(state.issues ?? []));
  });

  it('validates once and answers later loads from the cache, good or bad', async () => {
    // Arrange
    const events: ConfigEvent[] = [];
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG: TYPO_CONFIG_TEXT },
      onEvent: (e) => events.push(e),
    });
    const first = await loader.load(live());

    // Act
    const second = await loader.load(live());

    // Assert
    expect(second).toBe(first);
    expect(events).toHaveLength(1);
  });

  it('answers from the cache even when the signal has already aborted', async () => {
    // Arrange
    const loader = createConfigLoader({ env: { AUTHORIZER_CONFIG: validConfigText() } });
    await loader.load(live());

    // Act
    const state = await loader.load(AbortSignal.abort());

    // Assert
    expect(state.ok).toBe(true);
  });
});

describe('createConfigLoader with a configuration file', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ahi-config-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a valid file with a content-hash version', async () => {
    // Arrange
    const path = join(dir, 'config.json');
    const text = validConfigText('from-file');
    await writeFile(path, text);
    const events: ConfigEvent[] = [];
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_FILE: path },
      onEvent: (e) => events.push(e),
    });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: true, loaded: { source: 'file', version: contentVersion(text) } });
    expect(state.ok && state.loaded.config.rules[0]?.name).toBe('from-file');
    expect(events).toEqual([
      { type: 'config_loaded', source: `file:${path}`, version: contentVersion(text) },
    ]);
  });

  it('reports an invalid file as config_invalid with JSON paths', async () => {
    // Arrange
    const path = join(dir, 'config.json');
    await writeFile(path, TYPO_CONFIG_TEXT);
    const loader = createConfigLoader({ env: { AUTHORIZER_CONFIG_FILE: path } });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: false, reason: 'config_invalid', issues: [TYPO_ISSUE] });
  });

  it('rejects a file that repeats a key, naming its JSON path', async () => {
    // Arrange
    const path = join(dir, 'config.json');
    await writeFile(path, DUPLICATE_KEY_CONFIG_TEXT);
    const loader = createConfigLoader({ env: { AUTHORIZER_CONFIG_FILE: path } });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: false, reason: 'config_invalid', issues: [DUPLICATE_KEY_ISSUE] });
  });

  it('reports a missing file as config_unavailable naming the path and the error code', async () => {
    // Arrange
    const path = join(dir, 'missing.json');
    const events: ConfigEvent[] = [];
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_FILE: path },
      onEvent: (e) => events.push(e),
    });

    // Act
    const state = await loader.load(live());

    // Assert
    const detail = `could not read AUTHORIZER_CONFIG_FILE "${path}": ENOENT`;
    expect(state).toEqual({ ok: false, reason: 'config_unavailable', detail });
    expect(events).toEqual([{ type: 'config_read_failed', source: `file:${path}`, detail }]);
  });

  it('reads the file once for the life of the loader, even when the read failed', async () => {
    // Arrange
    let reads = 0;
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_FILE: '/config.json' },
      readFile: () => {
        reads += 1;
        return Promise.reject(Object.assign(new Error('denied'), { code: 'EACCES' }));
      },
    });

    // Act
    const states = [await loader.load(live()), await loader.load(live()), await loader.load(live())];

    // Assert
    expect(reads).toBe(1);
    expect(states.map((s) => s.ok || s.detail)).toEqual(
      Array(3).fill('could not read AUTHORIZER_CONFIG_FILE "/config.json": EACCES'),
    );
  });

  it('shares one read between concurrent loads', async () => {
    // Arrange
    let reads = 0;
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_FILE: '/config.json' },
      readFile: () => {
        reads += 1;
        return Promise.resolve(validConfigText());
      },
    });

    // Act
    const states = await Promise.all([loader.load(live()), loader.load(live())]);

    // Assert
    expect(reads).toBe(1);
    expect(states.every((s) => s.ok)).toBe(true);
  });

  it('answers config_unavailable when the signal aborts before the file is read, then serves the read', async () => {
    // Arrange
    let finish: (text: string) => void = () => {};
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_FILE: '/slow/config.json' },
      readFile: () => new Promise<string>((resolve) => (finish = resolve)),
    });
    const controller = new AbortController();
    const pending = loader.load(controller.signal);

    // Act
    controller.abort();
    const timedOut = await pending;
    finish(validConfigText());
    const later = await loader.load(live());

    // Assert
    expect(timedOut).toEqual({
      ok: false,
      reason: 'config_unavailable',
      detail: 'timed out reading configuration',
    });
    expect(later.ok).toBe(true);
  });

  it('reads the file again after reset()', async () => {
    // Arrange
    let reads = 0;
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_FILE: '/config.json' },
      readFile: () => {
        reads += 1;
        return Promise.resolve(validConfigText(`v${reads}`));
      },
    });
    await loader.load(live());

    // Act
    loader.reset();
    const state = await loader.load(live());

    // Assert
    expect(reads).toBe(2);
    expect(state.ok && state.loaded.config.rules[0]?.name).toBe('v2');
  });
});

describe('createConfigLoader source selection', () => {
  it('answers config_unavailable and logs why when no source variable is set', async () => {
    // Arrange
    const events: ConfigEvent[] = [];
    const loader = createConfigLoader({ env: {}, ssm: unusedSsm, onEvent: (e) => events.push(e) });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: false, reason: 'config_unavailable' });
    expect(state.ok || state.detail).toContain('AUTHORIZER_CONFIG_PARAMETER');
    expect(events).toEqual([
      { type: 'config_read_failed', source: 'environment', detail: state.ok ? '' : state.detail },
    ]);
  });

  it('answers config_invalid without reading anything when two sources are set', async () => {
    // Arrange
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG: validConfigText(), AUTHORIZER_CONFIG_PARAMETER: '/ahi/config' },
      ssm: unusedSsm,
    });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: false, reason: 'config_invalid' });
    expect(state.ok || state.detail).toMatch(/^set exactly one of /);
  });

  it('keeps answering when the event listener throws', async () => {
    // Arrange
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG: validConfigText() },
      onEvent: () => {
        throw new Error('logger broke');
      },
    });

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state.ok).toBe(true);
  });

  it('treats an SSM reader that throws as a failed read and still applies the retry backoff', async () => {
    // Arrange
    let reads = 0;
    const clock = { t: 0 };
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_PARAMETER: '/ahi/config' },
      ssm: {
        read: () => {
          reads += 1;
          throw new Error('broken fake');
        },
      },
      now: () => clock.t,
    });

    // Act
    const first = await loader.load(live());
    clock.t += 10;
    await loader.load(live());

    // Assert
    expect(first).toEqual({
      ok: false,
      reason: 'config_unavailable',
      detail: 'could not read SSM parameter "/ahi/config": UnknownError',
    });
    expect(reads).toBe(1);
  });
});

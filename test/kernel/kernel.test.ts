/**
 * The kernel (src/core/kernel/) is the bottom layer of the core: every stage may import it, and it
 * imports nothing from the other core folders. Its limits are the ones more than one stage reads;
 * the result type keeps every stage's answer in one shape.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as limits from '../../src/core/kernel/limits.ts';
import { refuse, type Result } from '../../src/core/kernel/result.ts';

const CORE = resolve(import.meta.dirname, '../../src/core');
const KERNEL = join(CORE, 'kernel');

/** Every .ts file under `dir`, as paths relative to src/core. */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file).slice(CORE.length + 1));
}

/** The module specifiers a file imports or re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(CORE, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gms)].map((match) => match[1] ?? '');
}

describe('kernel', () => {
  it('imports nothing but other kernel files and Node built-ins', () => {
    // Arrange
    const files = sources(KERNEL);

    // Act
    const outside = files.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => !specifier.startsWith('node:') && !/^\.\/[\w-]+\.ts$/.test(specifier))
        .map((specifier) => `${file}: ${specifier}`),
    );

    // Assert
    expect(files).toEqual(
      expect.arrayContaining(['kernel/clock.ts', 'kernel/deadline.ts', 'kernel/limits.ts']),
    );
    expect(outside).toEqual([]);
  });

  it('holds only limits that more than one core folder (or the pipeline) reads', () => {
    // Arrange
    const files = sources(CORE).filter((file) => !file.startsWith('kernel/'));

    // Act
    const readers = Object.keys(limits).map((name) => {
      const folders = files
        .filter((file) => importsOf(file).some((specifier) => specifier.endsWith('kernel/limits.ts')))
        .filter((file) => new RegExp(`\\b${name}\\b`).test(readFileSync(join(CORE, file), 'utf8')))
        .map((file) => (file.includes('/') ? file.split('/')[0] : file));
      return [name, new Set(folders).size] as const;
    });

    // Assert
    for (const [name, count] of readers) expect(count, name).toBeGreaterThanOrEqual(2);
  });

  it('leaves no second copy of a shared limit in the core', () => {
    // Arrange
    const files = sources(CORE).filter((file) => file !== 'kernel/limits.ts');

    const declared = new RegExp(`\\bconst (?:${Object.keys(limits).join('|')})\\b`);
    // The values as code, digits optionally grouped with `_` (a description string may name them).
    // MAX_KID_LENGTH is left out: 128 is also the log sanitiser's own length for any field.
    const scanned = [limits.MAX_TOKEN_AGE_SECONDS, limits.MAX_TOKEN_LENGTH];
    const asCode = (value: number) => String(value).split('').join('_?');
    const literal = new RegExp(String.raw`(?:max|[:=])\s*(?:${scanned.map(asCode).join('|')})\b`);

    // Act
    const copies = files.filter((file) => {
      // The RSA modulus cap is another limit that happens to share a value.
      const text = readFileSync(join(CORE, file), 'utf8').replace(/\bMAX_RSA_BITS = [\d_]+/, '');
      return declared.test(text) || literal.test(text);
    });

    // Assert
    expect(literal.test(`maximum: ${limits.MAX_TOKEN_LENGTH}`)).toBe(true);
    expect(literal.test(`max = ${String(limits.MAX_TOKEN_AGE_SECONDS).replace(/\d{3}$/, '_$&')}`)).toBe(true);
    expect(copies).toEqual([]);
  });
});

describe('Result', () => {
  it('narrows on ok to the fields of either side', () => {
    // Arrange: the success side is a plain object (the kernel has no constructor for it), so only
    // its type is the kernel's; the failure side is built by refuse().
    const parse = (text: string): Result<{ value: number }, { reason: 'nan'; detail: string }> => {
      const value = Number(text);
      return Number.isNaN(value) ? refuse('nan', 'not a number') : { ok: true, value };
    };

    // Act
    const good = parse('42');
    const bad = parse('forty-two');

    // Assert: narrowing on ok is checked by the type checker (npm run typecheck)
    if (good.ok) expectTypeOf(good).toEqualTypeOf<{ ok: true } & { value: number }>();
    if (!bad.ok) expectTypeOf(bad.reason).toEqualTypeOf<'nan'>();
    expect(bad.ok ? undefined : [bad.reason, bad.detail]).toEqual(['nan', 'not a number']);
  });

  it('refuse() builds a plain failure with exactly ok, reason and detail', () => {
    // Act
    const refusal = refuse('kid_unknown', 'no key with this kid');

    // Assert
    expect(refusal).toStrictEqual({ ok: false, reason: 'kid_unknown', detail: 'no key with this kid' });
  });
});

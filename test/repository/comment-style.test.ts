/**
 * Comment habits that keep the code readable as it changes: every source module opens with a short
 * header (what it does and why, in a few lines), and no comment quotes a timing or size measurement,
 * which rots as the code and the runtime change. Measurements live in `npm run bench` and
 * docs/performance.md.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CODE = /^(?:(?:src|test|infra|bench|scripts)\/.*|[\w.-]+)\.(?:ts|mjs|js)$/;
/** Modules that must open with a header; tests may, and are held to the same length when they do. */
const NEEDS_HEADER = /^(?:src|infra|bench|scripts)\//;
/** About five lines of prose: enough for what and why, short enough to be read. */
export const MAX_HEADER_WORDS = 60;

const UNIT = String.raw`(?:ms|µs|us|ns|s|KB|KiB|MB|MiB|%)`;
const NUMBER = String.raw`\d[\d.,]*`;
/** The end of a unit: no word character follows (`\b` after `%` would need a letter next). */
const END = String.raw`(?!\w)`;
/** Phrases that quote a measurement; the first test below shows what matches and what does not. */
const MEASUREMENT = new RegExp(
  [
    String.raw`(?:~|≈|\babout |\baround |\broughly )${NUMBER} ?${UNIT}${END}`,
    String.raw`${NUMBER} ?${UNIT}? ?→ ?${NUMBER} ?${UNIT}${END}`,
    String.raw`\d+\.\d+ ?(?:-|–) ?\d+\.\d+ ?${UNIT}${END}`,
    String.raw`\bmeasured (?:at|as) `,
  ].join('|'),
);

function codeFiles(): string[] {
  const listing = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return listing
    .split('\0')
    .filter((file) => CODE.test(file))
    .sort();
}

/** The module's opening comment (a block comment or a run of line comments), without its markers. */
export function headerOf(source: string): string {
  const text = source.replace(/^#!.*\n/, '').trimStart();
  if (text.startsWith('/*')) {
    return text.slice(2, text.indexOf('*/')).replace(/^\s*\*+ ?/gm, '');
  }
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('//')) break;
    lines.push(line.slice(2));
  }
  return lines.join('\n');
}

export const wordCount = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** The comment text of a line: a `//` comment, or a line inside (or opening) a block comment. */
function commentOf(line: string): string | undefined {
  const trimmed = line.trim();
  if (/^(?:\/\/|\/\*|\*)/.test(trimmed)) return trimmed;
  const trailing = line.indexOf(' // ');
  return trailing === -1 ? undefined : line.slice(trailing);
}

describe('comment style', () => {
  const files = codeFiles();
  const sources = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

  it('finds the measurement phrases it forbids, and not the limits the code states', () => {
    // Assert
    expect(MEASUREMENT.test('// costs ~1 ms of every cold start')).toBe(true);
    expect(MEASUREMENT.test(' * importing it 9.6-10.8 ms → 2.8-3.8 ms')).toBe(true);
    expect(MEASUREMENT.test(' * share of the bundle 30.6 → 8.9 KB')).toBe(true);
    expect(MEASUREMENT.test(' * parses every certificate (about 10 ms on Node 24)')).toBe(true);
    expect(MEASUREMENT.test(' * measured at 50 ms on first use')).toBe(true);
    expect(MEASUREMENT.test(' * the cache saves about 30% of the verification time')).toBe(true);
    expect(MEASUREMENT.test(' * about 30 msgs a second')).toBe(false);
    expect(MEASUREMENT.test(' * a JWKS endpoint with 300 ms latency')).toBe(false);
    expect(MEASUREMENT.test('/** Lambda refuses a function whose environment totals over 4 KB. */')).toBe(
      false,
    );
    expect(MEASUREMENT.test(' * RFC 7519 section 4.1.4')).toBe(false);
    expect(MEASUREMENT.test('/** the internal deadline per invocation, 50-900 ms. */')).toBe(false);
  });

  it('scans some files', () => {
    // Assert
    expect(files.length).toBeGreaterThan(0);
  });

  it('reads a header from a block comment, line comments or a shebang script', () => {
    // Assert
    expect(headerOf('/**\n * Does one thing.\n * Because.\n */\nexport {};').trim()).toBe(
      'Does one thing.\nBecause.',
    );
    expect(wordCount(headerOf('#!/usr/bin/env node\n// One line.\n// Two.\nconst a = 1;'))).toBe(3);
    expect(headerOf('import x from "y";\n// later')).toBe('');
  });

  it('opens every source module with a header', () => {
    // Act
    const missing = files.filter(
      (file) => NEEDS_HEADER.test(file) && wordCount(headerOf(sources.get(file)!)) === 0,
    );

    // Assert
    expect(missing).toEqual([]);
  });

  it(`keeps every header to a few lines (at most ${MAX_HEADER_WORDS} words)`, () => {
    // Act
    const long = files
      .map((file) => [file, wordCount(headerOf(sources.get(file)!))] as const)
      .filter(([, words]) => words > MAX_HEADER_WORDS)
      .map(([file, words]) => `${file}: ${words} words`);

    // Assert
    expect(long).toEqual([]);
  });

  it('quotes no measurement in a comment', () => {
    // Act
    const offending = files.flatMap((file) =>
      sources
        .get(file)!
        .split('\n')
        .map((line, index) => [index + 1, commentOf(line)] as const)
        .filter(([, comment]) => comment !== undefined && MEASUREMENT.test(comment))
        .map(([number, comment]) => `${file}:${number}: ${comment!.slice(0, 120)}`),
    );

    // Assert
    expect(offending).toEqual([]);
  });
});

/**
 * Every reference in comments, test titles and docs must resolve with only this repository and the
 * public web: no citing documents outside it (a product or style brief, a security brief's sections or
 * findings, shared seed data), and every cited path exists. The patterns are built from pieces to pass
 * this scan.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCANNED_DIRS = ['src', 'test', 'infra', 'bench', 'scripts', 'docs', 'examples', 'deploy', 'sandbox'];
const SCANNED_ROOT_FILES = ['README.md', 'SECURITY.md', 'CONTRIBUTING.md', 'CHANGELOG.md'];
const SCANNED_EXTENSIONS = /\.(?:ts|mjs|js|md|json|ya?ml)$/;
/** The hostile-input catalogue: the only place whose numbered rows a comment may cite. */
const CATALOGUE = 'test/security/catalogue.test.ts';

const SECTION = '\u00a7';
const DOT_MD = '.' + 'md';
const STANDARD = String.raw`(?:RFC ?\d+|OpenID Connect (?:Core|Discovery)(?: 1\.0)?|OIDC (?:Core|Discovery)|FAPI [\d.]+(?: Advanced| Baseline)?)`;
const SECTION_NUMBER = String.raw`${SECTION} ?\d[\w.]*`;
/** A section sign is fine right after a standard's name, or after a list of its sections. */
const CITED_BY_STANDARD = new RegExp(String.raw`${STANDARD}(?:,? ?${SECTION_NUMBER}(?:,| and| or)?)* ?$`);

interface Line {
  file: string;
  number: number;
  text: string;
}

interface Rule {
  what: string;
  /** Whether a line breaks the rule; `lines` is the whole file, for rules that need its context. */
  breaks: (line: Line, lines: readonly Line[]) => boolean;
}

function trackedFiles(): string[] {
  const listing = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return listing
    .split('\0')
    .filter((file) => SCANNED_EXTENSIONS.test(file))
    .filter(
      (file) => SCANNED_ROOT_FILES.includes(file) || SCANNED_DIRS.some((dir) => file.startsWith(`${dir}/`)),
    )
    .filter((file) => existsSync(join(ROOT, file)))
    .sort();
}

function linesOf(file: string): Line[] {
  return readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .map((text, index) => ({ file, number: index + 1, text }));
}

const matches = (pattern: RegExp) => (line: Line) => pattern.test(line.text);

function bareSectionSign(line: Line): boolean {
  for (const match of line.text.matchAll(new RegExp(`${SECTION} ?\\d`, 'g'))) {
    if (!CITED_BY_STANDARD.test(line.text.slice(0, match.index))) return true;
  }
  return false;
}

const RULES: Rule[] = [
  {
    what: 'cites a product or style brief that is not in the repository',
    breaks: matches(new RegExp(`\\b(?:${['PRODUCT', 'STYLE'].join('|')})\\${DOT_MD}`)),
  },
  {
    what: 'cites a shared/ path outside the repository',
    breaks: matches(new RegExp(String.raw`(?<![\w./-])${'sha' + 'red'}/[\w.-]`)),
  },
  {
    what: "cites a numbered row, section or finding of SECURITY.md, which has none (name the heading, or the catalogue's row)",
    breaks: matches(new RegExp(String.raw`SECURITY\.md,? +(?:rows?\b|${SECTION}|findings?\b)`)),
  },
  {
    what: 'uses a section sign that does not follow a standard such as RFC 7519',
    breaks: bareSectionSign,
  },
  {
    what: 'cites a finding id (say what the finding is)',
    breaks: matches(new RegExp(String.raw`(?<![\w-])${'F'}\d{1,3}\b`)),
  },
  {
    what: 'cites an issue number of a tracker the repository does not link (say what the issue was)',
    breaks: matches(new RegExp(String.raw`\b${'iss' + 'ue'}s? #?\d`, 'i')),
  },
  {
    what: 'cites a numbered convention of a style brief',
    breaks: matches(new RegExp(String.raw`\b${'conven' + 'tion'} \d`, 'i')),
  },
  {
    what: `cites a numbered row without naming ${CATALOGUE} anywhere in the file`,
    breaks: (line, lines) =>
      line.file !== CATALOGUE &&
      /\brows? \d/i.test(line.text) &&
      !lines.some((other) => other.text.includes(CATALOGUE)),
  },
];

/** Repository-relative paths such as src/core/keys/key-store.ts; relative links and URLs are not matched. */
const CITED_PATH = /(?<![\w./@-])(?:src|test|infra|docs|bench|scripts)\/[^\s`'"()[\]<>{},;|]+/g;

/** Generated output (gitignored, such as bench/results/) is named before it exists. */
const isIgnored = (path: string) =>
  spawnSync('git', ['check-ignore', '-q', path], { cwd: ROOT }).status === 0;

function missingPaths(line: Line): string[] {
  const missing: string[] = [];
  for (const [raw] of line.text.matchAll(CITED_PATH)) {
    const path = raw.replace(/#.*$/, '').replace(/[.,:;!?]+$/, '');
    if (/[*<$]/.test(path) || !/\.(?:ts|mjs|md|json)$/.test(path)) continue;
    if (!existsSync(join(ROOT, path)) && !isIgnored(path)) missing.push(path);
  }
  return missing;
}

const where = (line: Line) => `${line.file}:${line.number}: ${line.text.trim().slice(0, 120)}`;

describe('references in comments, test titles and docs', () => {
  const files = trackedFiles();
  const allLines = files.map(linesOf);

  it('scans the tracked sources and docs', () => {
    // Assert
    expect(files).toContain('src/core/authorize.ts');
    expect(files).toContain('README.md');
    expect(files).toContain('SECURITY.md');
    expect(files).toContain('test/repository/comment-references.test.ts');
    expect(files.every((file) => !file.startsWith('node_modules/') && !file.startsWith('dist/'))).toBe(true);
  });

  for (const { what, breaks } of RULES) {
    it(`has no line that ${what}`, () => {
      // Act
      const offending = allLines.flatMap((lines) => lines.filter((line) => breaks(line, lines)).map(where));

      // Assert
      expect(offending).toEqual([]);
    });
  }

  it('names only sections that exist: a cited `file.md "Heading"` (or `file.md, "Heading"`) is a heading of that file', () => {
    // Arrange
    const cited = new RegExp(String.raw`([\w./-]+${DOT_MD.replace('.', '\\.')}),? "([^"]+)"`, 'g');
    const headingsOf = (file: string) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .filter((text) => /^#{1,6} /.test(text))
        .map((text) => text.replace(/^#{1,6} /, '').trim());
    /** From the repository's root, else relative to the citing file (a link such as `../SECURITY.md`). */
    const resolveCited = (from: string, file: string) =>
      [join(ROOT, file), join(ROOT, dirname(from), file)].find((path) => existsSync(path));
    const checked: string[] = [];

    // Act
    const missing = allLines.flatMap((lines) =>
      lines.flatMap((line) =>
        [...line.text.matchAll(cited)].flatMap(([citation, file, heading]) => {
          const path = resolveCited(line.file, file!);
          if (path === undefined) return [];
          checked.push(citation);
          return headingsOf(relative(ROOT, path)).includes(heading!)
            ? []
            : [`${line.file}:${line.number}: ${citation}`];
        }),
      ),
    );

    // Assert
    expect(checked.length, 'no section citation was checked').toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('names only repository paths that exist', () => {
    // Act
    const missing = allLines.flatMap((lines) =>
      lines.flatMap((line) => missingPaths(line).map((path) => `${line.file}:${line.number}: ${path}`)),
    );

    // Assert
    expect(missing).toEqual([]);
  });
});

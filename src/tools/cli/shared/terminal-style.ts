/**
 * How the CLI marks up text: colours and status symbols on an interactive terminal, plain ASCII
 * when piped or when NO_COLOR is set (https://no-color.org), so logs and scripts get stable text.
 */

export type Status = 'ok' | 'fail' | 'warn' | 'skip' | 'info';

export interface TerminalStyle {
  readonly colour: boolean;
  symbol(status: Status): string;
  status(status: Status, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const CODES = { ok: 32, fail: 31, warn: 33, skip: 90, info: 36 } as const;
const FANCY: Record<Status, string> = { ok: '✓', fail: '✗', warn: '!', skip: '·', info: '–' };
const PLAIN: Record<Status, string> = { ok: '[ok]', fail: '[XX]', warn: '[!!]', skip: '[..]', info: '[--]' };

export function createTerminalStyle(colour: boolean): TerminalStyle {
  const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  return {
    colour,
    symbol: (status) => paint(CODES[status], colour ? FANCY[status] : PLAIN[status]),
    status: (status, text) => paint(CODES[status], text),
    bold: (text) => (colour ? `\x1b[1m${text}\x1b[22m` : text),
    dim: (text) => paint(2, text),
  };
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything non-empty. */
export function wantsColour(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY && !env['NO_COLOR'];
}

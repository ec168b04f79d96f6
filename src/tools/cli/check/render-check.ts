/**
 * Renders a CheckReport as text: the config verdict (or each problem with its JSON path), the CA
 * bundle trusted beside the default CAs (if any), then per issuer the discovery / JWKS fetches with
 * timings (a TLS failure with its cause and hint), keys and algorithms, then the rules, and a
 * one-line tally. Pure: report + style → text.
 */

import type { CheckReport, Finding, Severity } from './check-config.ts';
import type { Status, TerminalStyle } from '../shared/terminal-style.ts';

const LABEL_WIDTH = 12;

const STATUS: Record<Severity, Status> = { ok: 'ok', problem: 'fail', warning: 'warn', info: 'info' };

/** Issuer findings line up in a column; rule findings lead with the rule's name, however long. */
function findingLines(finding: Finding, style: TerminalStyle, padded = true): string[] {
  const subject = padded ? finding.subject.padEnd(LABEL_WIDTH) : `${finding.subject} `;
  const lines = [`  ${style.symbol(STATUS[finding.severity])} ${subject}${finding.message}`];
  for (const hint of finding.hints) lines.push(`      ${style.status('info', 'hint:')} ${hint}`);
  return lines;
}

export function renderCheck(report: CheckReport, style: TerminalStyle): string {
  const out: string[] = [];
  const label = (text: string) => style.bold(text.padEnd(LABEL_WIDTH + 2));
  if (!report.config.ok) {
    out.push(`${label('config')}${report.config.file} ${style.status('fail', 'is invalid')}`);
    for (const issue of report.config.issues)
      out.push(`  ${style.symbol('fail')} ${issue.path}: ${issue.message}`);
  } else {
    out.push(
      `${label('config')}${report.config.file} ${style.status('ok', 'valid')} ${style.dim(
        `(${report.config.version}; ${report.config.issuers} issuer${report.config.issuers === 1 ? '' : 's'}, ${report.config.rules} rule${report.config.rules === 1 ? '' : 's'})`,
      )}`,
    );
  }
  if (report.caBundle !== undefined) {
    const { file, certificates, findings } = report.caBundle;
    out.push(
      `${label('ca bundle')}${file} ${style.dim(
        `(${certificates.length} certificate${certificates.length === 1 ? '' : 's'}: ${certificates.slice(0, 5).join(', ')}${certificates.length > 5 ? ', …' : ''})`,
      )}`,
    );
    for (const finding of findings) out.push(...findingLines(finding, style));
  }
  for (const issuer of report.issuers) {
    out.push('');
    out.push(`${label('issuer')}${issuer.issuer}`);
    for (const finding of issuer.findings) out.push(...findingLines(finding, style));
  }
  if (report.rules.length > 0) {
    out.push('');
    out.push(style.bold('rules'));
    for (const finding of report.rules) out.push(...findingLines(finding, style, false));
  }
  out.push('');
  const tally = `${report.problems} problem${report.problems === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`;
  out.push(
    report.problems > 0
      ? `${style.symbol('fail')} ${style.status('fail', tally)}`
      : `${style.symbol('ok')} ${style.status('ok', tally)}`,
  );
  return `${out.join('\n')}\n`;
}

/**
 * Renders an ExplainReport as the readable trace `explain` prints: one line per pipeline step,
 * every rule with each condition, the operation table, the decision with its reason code and
 * HealthImaging's answer, then the most likely cause and hints. Pure: report + style → text.
 */

import type { ConditionView, ExplainReport, ExplainStep, RuleView } from './explain-token.ts';
import { showAlternatives, showValue } from '../shared/show-value.ts';
import type { Status, TerminalStyle } from '../shared/terminal-style.ts';

const LABEL_WIDTH = 10;

function stepStatus(step: ExplainStep['status']): Status {
  return step === 'info' ? 'info' : step;
}

function ruleStatus(outcome: RuleView['outcome']): Status {
  switch (outcome) {
    case 'matched':
    case 'claims_matched':
      return 'ok';
    case 'operation_mismatch':
    case 'datastore_mismatch':
      return 'warn';
    case 'not_tried':
      return 'skip';
    default:
      return 'fail';
  }
}

function ruleNote(rule: RuleView, operation: string | null): string {
  const scope = [
    rule.operations ? `operations ${showValue(rule.operations)}` : '',
    rule.datastores ? `datastores ${showValue(rule.datastores)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  switch (rule.outcome) {
    case 'matched':
      return 'matched';
    case 'claims_matched':
      return `claims match${scope ? `; ${scope}` : '; all operations'}`;
    case 'issuer_mismatch':
      return `only for issuer ${rule.issuer ?? ''}`;
    case 'claims_mismatch':
      return 'claims do not match';
    case 'operation_mismatch':
      return `claims match, but ${scope || 'its operations'} do not include ${operation ?? 'this operation'}`;
    case 'datastore_mismatch':
      return `claims match, but not on this datastore (${scope})`;
    case 'not_tried':
      return 'not tried (an earlier rule matched)';
    default: {
      const unreachable: never = rule.outcome;
      return unreachable;
    }
  }
}

/** A scalar claim shows as itself; an array (or a split scp / scope string) as a list. */
function actualText(condition: ConditionView): string {
  const actual = condition.actual ?? [];
  if (condition.actualType !== 'array' && actual.length === 1) return showValue(actual[0]);
  return showValue(actual);
}

export function renderExplain(report: ExplainReport, style: TerminalStyle): string {
  const out: string[] = [];
  const label = (text: string) => style.bold(text.padEnd(LABEL_WIDTH));
  const datastoreNote =
    report.datastoreSource === 'option'
      ? ''
      : report.datastoreSource === 'config'
        ? ' (first of config datastores)'
        : ' (placeholder; pass --datastore)';

  out.push(
    `${label('explain')}${report.operation ?? 'every HealthImaging operation'} on datastore ${report.datastoreId}${style.dim(datastoreNote)}`,
  );
  out.push(`${label('config')}${report.config.file} ${style.dim(`(${report.config.version})`)}`);
  out.push(`${label('now')}${report.now} ${style.dim(`(${report.nowSource})`)}`);
  out.push('');

  for (const step of report.steps) {
    const text = step.status === 'skip' ? style.dim(step.text) : step.text;
    out.push(`  ${style.symbol(stepStatus(step.status))} ${step.step.padEnd(LABEL_WIDTH)}${text}`);
  }

  if (report.rules !== null) {
    out.push('');
    out.push(style.bold('rules (in order; the first match decides)'));
    for (const rule of report.rules) {
      const status = ruleStatus(rule.outcome);
      out.push(
        `  ${style.symbol(status)} ${style.bold(rule.rule)} → ${rule.roleArn}  ${style.dim(ruleNote(rule, report.operation))}`,
      );
      if (rule.outcome === 'not_tried' || rule.outcome === 'issuer_mismatch') continue;
      for (const condition of rule.conditions) {
        const expected = showAlternatives(condition.expected);
        const line = condition.holds
          ? `${condition.path} is ${actualText(condition)}`
          : !condition.found
            ? `${condition.path} missing — expected ${expected}`
            : `${condition.path} is ${actualText(condition)} — expected ${expected}`;
        out.push(`      ${style.symbol(condition.holds ? 'ok' : 'fail')} ${line}`);
        for (const hint of condition.hints) out.push(`        ${style.status('info', 'hint:')} ${hint.text}`);
      }
    }
  }

  if (report.operations !== undefined) {
    out.push('');
    out.push(style.bold('operations'));
    const width = Math.max(...report.operations.map((row) => row.operation.length)) + 2;
    for (const row of report.operations) {
      const verdict = row.decision === 'allow' ? style.status('ok', 'allow') : style.status('fail', 'deny ');
      const detail =
        row.decision === 'allow'
          ? `${row.roleArn ?? ''} ${style.dim(`(rule ${row.rule ?? ''})`)}`
          : `${row.reason} ${style.dim(`(HTTP ${row.httpStatus})`)}`;
      out.push(
        `  ${style.symbol(row.decision === 'allow' ? 'ok' : 'fail')} ${row.operation.padEnd(width)}${row.class.padEnd(7)}${verdict}  ${detail}`,
      );
    }
  }

  out.push('');
  const verdict =
    report.decision === 'allow'
      ? style.status('ok', style.bold('ALLOW'))
      : style.status('fail', style.bold('DENY '));
  const reason = report.reason === undefined ? '' : `${report.reason} — `;
  out.push(`${verdict}     ${reason}${report.summary}`);
  if (report.healthImaging !== undefined) {
    const { status, message, answer } = report.healthImaging;
    const shown =
      status === 200 ? `${message} and serves the request` : `HealthImaging answers ${status} "${message}"`;
    out.push(
      `${' '.repeat(LABEL_WIDTH)}${shown} ${style.dim(
        `(isTokenValid: ${answer.isTokenValid}, roleArn: ${JSON.stringify(answer.roleArn)})`,
      )}`,
    );
  }
  if (report.why !== undefined) out.push(`${label('why')}${report.why}`);
  for (const hint of report.hints) {
    if (report.why?.includes(hint.text)) continue;
    out.push(`${label('hint')}${hint.text}`);
  }
  return `${out.join('\n')}\n`;
}

/*
 * How `roster sync` shows a plan to a person: a summary of the counts and one line per user that
 * changes (`+ create`, `~ update` with each field's before → after, `* reactivate`, `- suspend`,
 * `! error`), with warnings under it. Colour only when the output is a terminal and NO_COLOR is
 * not set (https://no-color.org), so a log file or a pipe gets plain text.
 */

import type { AppliedCounts, SyncCounts, SyncRunStatus } from '../domain/sync-run.js';

export type { AppliedCounts, SyncCounts };

/** A sync run as GET /v1/sync-runs/{id} answers it (the server's SyncRun schema). */
export interface SyncRun {
  id: string;
  origin: string;
  status: SyncRunStatus;
  counts: SyncCounts;
  /** What an apply did: applied items per action, and the items that failed. */
  applied: AppliedCounts | null;
  heldReasons: string[];
  jobId: string | null;
  createdAt: string;
  plannedAt: string | null;
  appliedAt: string | null;
}

export const PLAN_ACTIONS = ['create', 'update', 'reactivate', 'suspend', 'unchanged', 'error'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

/** One item of a plan (GET /v1/sync-runs/{id}/items). */
export interface PlanItem {
  key: string;
  userId: string | null;
  action: PlanAction;
  changes: Record<string, { from: unknown; to: unknown }>;
  warnings: { code: string; message: string }[];
  error: { code?: string; detail?: string; errors?: { field: string; message: string }[] } | null;
}

/** Whether to colour what goes to `stream`: a terminal, and NO_COLOR unset or empty. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

const CODES = { green: 32, yellow: 33, red: 31, cyan: 36, magenta: 35, dim: 2, bold: 1 } as const;
type Color = keyof typeof CODES;

export class PlanFormatter {
  constructor(private readonly color: boolean) {}

  private paint(text: string, color: Color): string {
    return this.color ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
  }

  /** `3 to create, 1 to update, 0 to reactivate, 2 to suspend, 40 unchanged, 0 errors`. */
  counts(counts: SyncCounts): string {
    return [
      this.paint(`${counts.create} to create`, counts.create ? 'green' : 'dim'),
      this.paint(`${counts.update} to update`, counts.update ? 'yellow' : 'dim'),
      this.paint(`${counts.reactivate} to reactivate`, counts.reactivate ? 'cyan' : 'dim'),
      this.paint(`${counts.suspend} to suspend`, counts.suspend ? 'red' : 'dim'),
      `${counts.unchanged} unchanged`,
      this.paint(`${counts.errors} error${counts.errors === 1 ? '' : 's'}`, counts.errors ? 'red' : 'dim'),
    ].join(', ');
  }

  /** `3 created, 1 updated, 0 reactivated, 2 suspended, 0 failed`: what an apply did. */
  applied(applied: AppliedCounts): string {
    return [
      this.paint(`${applied.create} created`, applied.create ? 'green' : 'dim'),
      this.paint(`${applied.update} updated`, applied.update ? 'yellow' : 'dim'),
      this.paint(`${applied.reactivate} reactivated`, applied.reactivate ? 'cyan' : 'dim'),
      this.paint(`${applied.suspend} suspended`, applied.suspend ? 'red' : 'dim'),
      this.paint(`${applied.failed} failed`, applied.failed ? 'red' : 'dim'),
    ].join(', ');
  }

  /** The summary of a planned run, with the reasons it is held. */
  summary(run: SyncRun): string {
    const lines = [`Plan ${run.id} (origin ${run.origin}): ${this.counts(run.counts)}.`];
    if (run.status === 'held') {
      lines.push(this.paint('The plan is held:', 'red'));
      for (const reason of run.heldReasons) lines.push(`  ${reason}`);
    }
    return lines.join('\n');
  }

  /** The lines of one item: the change, then its warnings and error. */
  item(item: PlanItem): string {
    const changes = Object.entries(item.changes ?? {});
    let head: string;
    switch (item.action) {
      case 'create':
        head = this.paint(`+ create ${item.key}`, 'green') + (changes.length ? `: ${changes.map(([f, c]) => `${f} ${value(c.to)}`).join(', ')}` : '');
        break;
      case 'update':
        head = this.paint(`~ update ${item.key}`, 'yellow') + (changes.length ? `: ${changes.map(([f, c]) => `${f} ${value(c.from)} → ${value(c.to)}`).join(', ')}` : '');
        break;
      case 'reactivate':
        head = this.paint(`* reactivate ${item.key}`, 'cyan') + (changes.length ? `: ${changes.map(([f, c]) => `${f} ${value(c.from)} → ${value(c.to)}`).join(', ')}` : '');
        break;
      case 'suspend':
        head = this.paint(`- suspend ${item.key}`, 'red');
        break;
      case 'unchanged':
        head = this.paint(`  unchanged ${item.key}`, 'dim');
        break;
      case 'error':
        head = this.paint(`! error ${item.key}`, 'red') + (item.error ? `: ${problemText(item.error)}` : '');
        break;
    }
    const lines = [head];
    for (const warning of item.warnings ?? []) lines.push(this.paint(`    warning: ${warning.code}: ${warning.message}`, 'magenta'));
    if (item.error && item.action !== 'error') lines.push(this.paint(`    error: ${problemText(item.error)}`, 'red'));
    return lines.join('\n');
  }
}

/** A value in a diff: JSON (strings quoted, null as null), cut at 80 characters. */
function value(v: unknown): string {
  const text = v === undefined ? 'null' : JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** `code: detail` of a problem, with the fields it names. */
function problemText(problem: NonNullable<PlanItem['error']>): string {
  const fields = problem.errors?.length ? ` (${problem.errors.map((e) => `${e.field} ${e.message}`).join('; ')})` : '';
  return `${problem.code ? `${problem.code}: ` : ''}${problem.detail ?? 'failed'}${problem.detail?.includes(problem.errors?.[0]?.message ?? '\u0000') ? '' : fields}`;
}

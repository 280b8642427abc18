import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { MAX_BULK_ROWS } from '../http/schemas/bulk-schemas.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './cli-error.js';
import type { RosterClient } from './http-client.js';
import { PLAN_ACTIONS, PlanFormatter, type PlanItem, type SyncRun } from './plan-diff-format.js';
import { describeProblem, readSyncFile, type SyncFileFormat } from './sync-file-reader.js';
import type { ColumnMapping } from './sync-row-mapping.js';

/** Rows per POST /v1/sync-runs/{id}/users (the server takes up to MAX_BULK_ROWS). */
export const SEND_CHUNK_ROWS = 5000;
/** Bad rows listed before the count of the rest. */
export const MAX_LISTED_PROBLEMS = 50;
/** How often a running apply is polled. */
const POLL_MS = 500;

export interface SyncOptions {
  file: string;
  origin: string;
  format?: SyncFileFormat | undefined;
  mapping?: ColumnMapping | undefined;
  missing?: 'suspend' | 'ignore' | undefined;
  maxDeactivations?: number | string | undefined;
  maxChanges?: number | undefined;
  apply: boolean;
  force: boolean;
  /** Where the plan goes (stdout) and where notes and progress go (stderr). */
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  color: boolean;
}

/** What a sync ended with: the exit code, the run (when one was made). */
export interface SyncResult {
  exitCode: number;
  run?: SyncRun;
}

/** `--max-deactivations`: a count (`25`) or a percentage of the origin's users (`5%`). */
export function parseMaxDeactivations(text: string): number | string {
  if (/^\d+$/.test(text)) return Number(text);
  if (/^\d+(\.\d+)?%$/.test(text) && Number(text.slice(0, -1)) <= 100) return text;
  throw new CliError(`--max-deactivations must be a count (25) or a percentage (5%), not "${text}"`, EXIT_USAGE);
}

/** A progress bar on stderr, only when stderr is a terminal (a log gets no bar). */
function progress(err: SyncOptions['err'], label: string): { update(done: number, total: number): void; stop(): void } {
  if (!err.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: err as NodeJS.WritableStream, format: `${label} [{bar}] {percentage}% | {value}/{total}`, hideCursor: true, clearOnComplete: true, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
        return;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/**
 * `roster sync`: checks every row of the file (nothing is sent when one is bad), creates a
 * staged sync run, sends the rows in chunks as they are read again, asks for the plan, prints it,
 * and applies it with `apply` (a held plan only with `force`), following the apply job's progress.
 */
export async function syncFile(client: RosterClient, options: SyncOptions): Promise<SyncResult> {
  const say = (text: string) => options.err.write(`${text}\n`);
  const print = (text: string) => options.out.write(`${text}\n`);
  const format = new PlanFormatter(options.color);

  // Credentials first: a wrong secret should not wait for a million rows to be checked.
  await client.authenticate();

  // 1. Every row checked; nothing is sent unless all are good.
  const reading = progress(options.err, 'Checking');
  let rows = 0;
  let badRows = 0;
  let problems = 0;
  const listed: string[] = [];
  try {
    for await (const record of readSyncFile(options.file, { format: options.format, mapping: options.mapping, onProgress: (done, total) => reading.update(done, total) })) {
      rows++;
      if (record.problems.length === 0) continue;
      badRows++;
      for (const problem of record.problems) {
        problems++;
        if (listed.length < MAX_LISTED_PROBLEMS) listed.push(describeProblem(record.line, problem));
      }
    }
  } finally {
    reading.stop();
  }
  if (badRows > 0) {
    for (const line of listed) say(line);
    if (problems > listed.length) say(`… and ${problems - listed.length} more problem${problems - listed.length === 1 ? '' : 's'}`);
    throw new CliError(`${badRows} of ${rows} row${rows === 1 ? '' : 's'} ${badRows === 1 ? 'is' : 'are'} not valid; nothing was sent`);
  }
  say(`${rows} row${rows === 1 ? '' : 's'} read from ${options.file}.`);

  // 2. A staged run receives the rows in chunks, read from the file a second time.
  let run = await client.request<SyncRun>('POST', '/v1/sync-runs', {
    body: {
      origin: options.origin,
      staged: true,
      ...(options.missing === undefined ? {} : { missing: options.missing }),
      ...(options.maxDeactivations === undefined ? {} : { maxDeactivations: options.maxDeactivations }),
      ...(options.maxChanges === undefined ? {} : { maxChanges: options.maxChanges }),
    },
  });
  const discard = async () => {
    await client.request('DELETE', `/v1/sync-runs/${encodeURIComponent(run.id)}`).catch(() => undefined);
  };
  const sending = progress(options.err, 'Sending ');
  try {
    let chunk: Record<string, unknown>[] = [];
    let sent = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      await client.request<{ received: number }>('POST', `/v1/sync-runs/${encodeURIComponent(run.id)}/users`, { body: { users: chunk } });
      sent += chunk.length;
      sending.update(sent, rows);
      chunk = [];
    };
    for await (const record of readSyncFile(options.file, { format: options.format, mapping: options.mapping })) {
      // The file changed between the two reads: stop rather than send what was not checked.
      if (record.problems.length > 0) throw new CliError(`${options.file} changed while it was being sent (${describeProblem(record.line, record.problems[0]!)}); the run was discarded`);
      chunk.push(record.row);
      if (chunk.length >= Math.min(SEND_CHUNK_ROWS, MAX_BULK_ROWS)) await flush();
    }
    await flush();
  } catch (error) {
    sending.stop();
    await discard();
    throw error;
  }
  sending.stop();

  // 3. The plan, and what it would do to each user that changes.
  say('Planning…');
  run = await client.request<SyncRun>('POST', `/v1/sync-runs/${encodeURIComponent(run.id)}/plan`);
  for (const action of PLAN_ACTIONS) {
    if (action === 'unchanged') continue;
    const count = action === 'error' ? run.counts.errors : run.counts[action];
    if (count === 0) continue;
    let cursor: string | undefined;
    do {
      const page = await client.request<{ items: PlanItem[]; nextCursor: string | null }>('GET', `/v1/sync-runs/${encodeURIComponent(run.id)}/items`, {
        query: { action, $top: 1000, cursor },
      });
      for (const item of page.items) print(format.item(item));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
  print(format.summary(run));
  const planErrors = run.counts.errors > 0;

  if (!options.apply) {
    const again = run.status === 'held' ? '--apply --force' : '--apply';
    print(`Nothing was changed. To apply: run this command again with ${again} (it plans afresh), or POST /v1/sync-runs/${run.id}/apply${run.status === 'held' ? '?force=true' : ''}.`);
    return { exitCode: planErrors ? EXIT_FAILURE : EXIT_OK, run };
  }
  if (run.status === 'held' && !options.force) {
    throw new CliError(`the plan ${run.id} is held (see above) and was not applied; to apply it anyway, run again with --apply --force`);
  }
  if (run.status !== 'planned' && run.status !== 'held') throw new CliError(`the plan ${run.id} is ${run.status}, not ready to apply`);
  const changes = run.counts.create + run.counts.update + run.counts.reactivate + run.counts.suspend;
  if (changes === 0) {
    print('Nothing to apply: the directory already matches the file.');
    await discard();
    return { exitCode: planErrors ? EXIT_FAILURE : EXIT_OK, run };
  }

  // 4. Apply, following the job's progress until the run is applied or failed.
  run = await client.request<SyncRun>('POST', `/v1/sync-runs/${encodeURIComponent(run.id)}/apply`, { query: { force: run.status === 'held' ? true : undefined } });
  const applying = progress(options.err, 'Applying');
  try {
    while (run.status !== 'applied' && run.status !== 'failed' && run.status !== 'discarded') {
      await sleep(POLL_MS);
      if (run.jobId) {
        const job = await client.request<{ progress?: { done?: number; total?: number } | null }>('GET', `/v1/jobs/${encodeURIComponent(run.jobId)}`).catch(() => undefined);
        const p = job?.progress;
        if (p && typeof p.done === 'number' && typeof p.total === 'number') applying.update(p.done, p.total);
      }
      run = await client.request<SyncRun>('GET', `/v1/sync-runs/${encodeURIComponent(run.id)}`);
    }
  } finally {
    applying.stop();
  }
  if (run.status !== 'applied') throw new CliError(`applying the plan ${run.id} ${run.status}${run.jobId ? ` (see GET /v1/jobs/${run.jobId})` : ''}`);
  print(`Applied ${run.id}: ${run.applied ? format.applied(run.applied) : 'done'}.`);
  // Items that failed (their user changed after the plan, a rule refused them) make it a failure.
  return { exitCode: planErrors || (run.applied?.failed ?? 0) > 0 ? EXIT_FAILURE : EXIT_OK, run };
}

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { USER_WRITABLE_FIELDS } from '../domain/user-fields.js';
import { CliError } from './cli-error.js';
import type { RosterClient } from './http-client.js';
import type { SyncFileFormat } from './sync-file-reader.js';
import { cellOfValue, KEY_FIELD, ROW_FIELDS } from './sync-row-mapping.js';

/** Users per page asked of the server (the most GET /v1/users gives). */
export const EXPORT_PAGE_SIZE = 1000;

export interface ExportOptions {
  format: SyncFileFormat;
  /** An OData $filter, passed to the server as written. */
  filter?: string | undefined;
  /** With an origin, `key` is each user's external id of that origin; users without one are skipped. */
  origin?: string | undefined;
  /** Where rows go (a file's stream or stdout). */
  out: Writable;
}

export interface ExportResult {
  /** Rows written. */
  exported: number;
  /** Users left out because they have no external id of the origin. */
  skipped: number;
}

type ListedUser = Record<string, unknown> & { externalIds?: { origin: string; key: string }[] };

/**
 * The fields of an exported row: the user's writable fields (no id, version or timestamps;
 * references as ids: managerId, positionId, areaId). With an origin, externalIds is left out:
 * the row's key is that origin's id, and the user's ids of other origins are not the snapshot's
 * to change.
 */
export function exportFields(origin: string | undefined): string[] {
  return USER_WRITABLE_FIELDS.filter((f) => origin === undefined || f !== 'externalIds');
}

/** A CSV cell, quoted when it holds the delimiter, a quote, a line break or edge spaces (RFC 4180). */
const csvCell = (text: string): string => (/[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

/**
 * Streams every user the filter selects (all without one) from `GET /v1/users`, page by page
 * following nextCursor, into rows `roster sync` reads back unchanged: export then sync with the
 * same origin plans no change. Each page is written as it arrives and the next one is asked for
 * only when the output has taken it (backpressure), so memory holds one page.
 */
export async function exportUsers(client: RosterClient, options: ExportOptions): Promise<ExportResult> {
  const fields = exportFields(options.origin);
  const columns = options.origin === undefined ? fields : [KEY_FIELD, ...fields];
  const out = options.out;
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), once(out, 'error').then(([e]) => Promise.reject(e as Error))]);
  };
  const result: ExportResult = { exported: 0, skipped: 0 };
  if (options.format === 'csv') await write(`${columns.map(csvCell).join(',')}\r\n`);
  if (options.format === 'json') await write('[');
  // externalIds is always asked for: the key comes from it.
  const select = [...new Set([...fields, 'externalIds'])].join(',');
  let cursor: string | undefined;
  do {
    const page = await client.request<{ items: ListedUser[]; nextCursor: string | null }>('GET', '/v1/users', {
      query: cursor === undefined ? { $filter: options.filter, $select: select, $top: EXPORT_PAGE_SIZE } : { cursor },
    });
    let text = '';
    for (const user of page.items) {
      const row: Record<string, unknown> = {};
      if (options.origin !== undefined) {
        const key = user.externalIds?.find((e) => e.origin === options.origin)?.key;
        if (key === undefined) {
          result.skipped++;
          continue;
        }
        row[KEY_FIELD] = key;
      }
      for (const field of fields) row[field] = user[field] ?? null;
      text += formatRow(row, columns, options.format, result.exported === 0);
      result.exported++;
    }
    if (text !== '') await write(text);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  if (options.format === 'json') await write(result.exported === 0 ? ']\n' : '\n]\n');
  return result;
}

function formatRow(row: Record<string, unknown>, columns: readonly string[], format: SyncFileFormat, first: boolean): string {
  switch (format) {
    case 'csv':
      return `${columns.map((c) => csvCell(cellOfValue(row[c], ROW_FIELDS.get(c) ?? 'text'))).join(',')}\r\n`;
    case 'ndjson':
      return `${JSON.stringify(withoutNulls(row))}\n`;
    case 'json':
      return `${first ? '\n' : ',\n'}${JSON.stringify(withoutNulls(row))}`;
  }
}

/**
 * JSON rows leave out what is null, as CSV leaves its cell empty: a field not sent stays as it
 * is, which for a value that is absent anyway is the same, and keeps the file short.
 */
const withoutNulls = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null));

/** The output of `--out`: a file created (or truncated), or stdout; an unwritable path is one line. */
export async function openOutput(path: string | undefined): Promise<{ stream: Writable; close(): Promise<void> }> {
  if (path === undefined) return { stream: process.stdout, close: async () => undefined };
  const stream = createWriteStream(path);
  await Promise.race([once(stream, 'open'), once(stream, 'error').then(([e]) => Promise.reject(new CliError(`cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`)))]);
  return {
    stream,
    close: async () => {
      stream.end();
      await once(stream, 'finish');
    },
  };
}

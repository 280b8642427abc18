import Table from 'cli-table3';

/** One column of a table: its heading and how a record shows in it. */
export type Column<T> = [heading: string, value: (record: T) => string | number | null | undefined];

export interface OutputOptions {
  json?: boolean;
}

/**
 * Prints records for people (a table; a single record as a two-column table of fields) or, with
 * `--json`, as one JSON document for scripts: an array for a list, an object for one record.
 * Tables are plain text (no colours), so they survive a pipe or a log file.
 */
export function printRecords<T>(records: T[] | T, columns: Column<T>[], options: OutputOptions, json: (record: T) => unknown = (r) => r): void {
  if (options.json) {
    console.log(JSON.stringify(Array.isArray(records) ? records.map(json) : json(records), null, 2));
    return;
  }
  const style = { head: [], border: [] };
  if (!Array.isArray(records)) {
    const table = new Table({ style });
    for (const [heading, value] of columns) table.push({ [heading]: text(value(records)) });
    console.log(table.toString());
    return;
  }
  if (records.length === 0) {
    console.log('(none)');
    return;
  }
  const table = new Table({ head: columns.map(([heading]) => heading), style });
  for (const record of records) table.push(columns.map(([, value]) => text(value(record))));
  console.log(table.toString());
}

/** A message for people, or `{…fields}` as JSON for scripts. */
export function printMessage(message: string, fields: Record<string, unknown>, options: OutputOptions): void {
  console.log(options.json ? JSON.stringify(fields, null, 2) : message);
}

const text = (value: string | number | null | undefined): string => (value === null || value === undefined ? '' : String(value));

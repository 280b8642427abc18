import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { BulkUserRowSchema } from '../http/schemas/bulk-schemas.js';
import { validatorCompiler } from '../http/validation.js';
import { readableIssues, type AjvIssue } from '../http/validation-messages.js';
import { CliError, EXIT_USAGE } from './cli-error.js';
import { columnRules, DEFAULT_MAPPING, renameJsonRow, ROW_FIELDS, rowOfRecord, type ColumnMapping, type FieldProblem } from './sync-row-mapping.js';

/*
 * `roster sync` reads its file here: CSV, a JSON array of rows or NDJSON, as an async iterator of
 * rows, each converted (CSV cells to typed values, sync-row-mapping.ts) and validated with the
 * API's own row schema and validator. The file is streamed: memory holds one chunk and one row,
 * whatever the file's size, so the reader can be run twice over a 1,000,000-row file (once to
 * check every row, once to send them).
 */

export const SYNC_FILE_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type SyncFileFormat = (typeof SYNC_FILE_FORMATS)[number];

/** One row of the file: the line its record starts on (1-based), the row, and its problems (none when valid). */
export interface SyncFileRecord {
  line: number;
  row: Record<string, unknown>;
  problems: FieldProblem[];
}

export interface SyncFileOptions {
  /** Overrides the format the extension says. */
  format?: SyncFileFormat | undefined;
  mapping?: ColumnMapping | undefined;
  /** Called as the file is read, with the bytes read so far and the file's size. */
  onProgress?: ((bytesRead: number, totalBytes: number) => void) | undefined;
}

/** A record longer than this is refused (an unclosed quote would otherwise swallow the file into memory). */
export const MAX_RECORD_BYTES = 1 << 20;

/** Errors of a pipeline surface where its last stream is read. */
const ignore = () => undefined;

/** The format of a file from its extension (`--format` overrides); a usage error when neither says. */
export function syncFileFormat(path: string, override?: string): SyncFileFormat {
  const format = (override ?? extname(path).slice(1)).toLowerCase();
  if ((SYNC_FILE_FORMATS as readonly string[]).includes(format)) return format as SyncFileFormat;
  if (format === 'jsonl') return 'ndjson';
  if (override !== undefined) throw new CliError(`--format must be one of ${SYNC_FILE_FORMATS.join(', ')}, not "${override}"`, EXIT_USAGE);
  throw new CliError(`cannot tell the format of ${path} from its extension: name it .csv, .json or .ndjson, or pass --format csv|json|ndjson`, EXIT_USAGE);
}

/**
 * The rows of a sync file, read as a stream. Problems of the file as a whole (it cannot be read,
 * it is not UTF-8, a CSV header with unknown columns or without a key, broken CSV quoting, a
 * .json file that is not an array of objects) are thrown as CliError naming the line; problems
 * of one row are in its `problems`, so a caller can report every bad row.
 */
export async function* readSyncFile(path: string, options: SyncFileOptions = {}): AsyncGenerator<SyncFileRecord> {
  const format = syncFileFormat(path, options.format);
  const mapping = options.mapping ?? DEFAULT_MAPPING;
  const size = await stat(path).then(
    (s) => {
      if (!s.isFile()) throw new CliError(`${path} is not a file`);
      return s.size;
    },
    (error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read ${path} (${error.code ?? error.message})`);
    },
  );
  // pipeline (not pipe) carries a failure of any stage (an unreadable file, bytes that are not
  // UTF-8) to the last one, where the loop below reading it throws it.
  const text = () => pipeline(createReadStream(path), new Utf8Decoder(size, options.onProgress), ignore);
  const source = format === 'csv' ? csvRows(text, await csvDelimiter(path), mapping) : format === 'ndjson' ? ndjsonRows(text(), mapping) : jsonArrayRows(text(), mapping);
  for await (const record of source) {
    // A record that is no row at all (not JSON, not an object, wrong cell count) says only that;
    // otherwise every field's problem is listed, a cell that did not convert once.
    if (!record.problems.some((p) => p.field === '/')) {
      const unconverted = new Set(record.problems.map((p) => p.field));
      record.problems.push(...validateRow(record.row).filter((p) => !unconverted.has(p.field)));
    }
    yield record;
  }
}

/**
 * Decodes a UTF-8 byte stream into text, without a leading BOM. Bytes that are not UTF-8 stop
 * the read with the line they are on (a file saved as Latin-1 or UTF-16 by a spreadsheet is the
 * usual cause), instead of sending replacement characters.
 */
class Utf8Decoder extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  private bytes = 0;
  private line = 1;

  constructor(
    private readonly size: number,
    private readonly onProgress: SyncFileOptions['onProgress'],
  ) {
    // The readable side carries the decoded strings as they are (no second encode and decode).
    super({ readableObjectMode: true, decodeStrings: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      done(this.notUtf8());
      return;
    }
    this.bytes += chunk.length;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.line++;
    this.onProgress?.(this.bytes, this.size);
    done(null, text === '' ? undefined : text);
  }

  override _flush(done: TransformCallback): void {
    try {
      const rest = this.decoder.decode();
      done(null, rest === '' ? undefined : rest);
    } catch {
      done(this.notUtf8());
    }
  }

  private notUtf8(): CliError {
    return new CliError(`line ${this.line} (or the chunk after it) is not UTF-8: save the file as UTF-8 (with or without BOM)`);
  }
}

/** The delimiter of a CSV file: the one of `,` `;` tab the header line (outside quotes) holds most; `,` when none. */
export async function csvDelimiter(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    return delimiterOf(head);
  } finally {
    await file.close();
  }
}

/** See csvDelimiter: counts the candidates on the first line of `text`, outside quoted fields. */
export function delimiterOf(text: string): string {
  const counts = new Map<string, number>([[',', 0], [';', 0], ['\t', 0]]);
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && counts.has(char)) counts.set(char, (counts.get(char) as number) + 1);
  }
  let best = ',';
  for (const [candidate, count] of counts) if (count > (counts.get(best) as number)) best = candidate;
  return best;
}

/**
 * csv-parse counts every \r and every \n inside a quoted cell as a line (a \r\n as two), where
 * a reader of the file counts a \r\n once: `counted` is what it added for the cells, `pairs`
 * how many of those were the second half of a \r\n.
 */
function cellLines(record: readonly string[]): { counted: number; pairs: number } {
  let counted = 0;
  let pairs = 0;
  for (const cell of record) {
    for (let i = 0; i < cell.length; i++) {
      const c = cell.charCodeAt(i);
      if (c === 10) {
        counted++;
        if (i > 0 && cell.charCodeAt(i - 1) === 13) pairs++;
      } else if (c === 13) counted++;
    }
  }
  return { counted, pairs };
}

async function* csvRows(text: () => Transform, delimiter: string, mapping: ColumnMapping): AsyncGenerator<SyncFileRecord> {
  const parser = pipeline(
    text(),
    parse({
      delimiter,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      // A file may mix line endings (a header written by one tool, rows by another).
      record_delimiter: ['\r\n', '\n', '\r'],
      max_record_size: MAX_RECORD_BYTES,
    }),
    ignore,
  );
  let rules: ReturnType<typeof columnRules> | undefined;
  let overcounted = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // info.lines is the line the record ends on (as csv-parse counts); a quoted cell may have spanned several.
      const { counted, pairs } = cellLines(record);
      const line = info.lines - counted - overcounted;
      overcounted += pairs;
      if (rules === undefined) {
        rules = columnRules(record, mapping);
        continue;
      }
      if (record.length !== rules.length) {
        yield { line, row: {}, problems: [{ field: '/', message: `has ${record.length} cell${record.length === 1 ? '' : 's'}; the header has ${rules.length}` }] };
        continue;
      }
      yield { line, ...rowOfRecord(record, rules) };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const where = (error as CsvError & { lines?: number }).lines;
      throw new CliError(`${where === undefined ? '' : `line ${where}: `}the CSV cannot be read: ${error.message}`);
    }
    throw error;
  }
  if (rules === undefined) throw new CliError('the CSV file is empty: it needs a header line naming its columns');
}

/** The row of a JSON value, or the problem of a value that is not an object. */
function jsonRow(value: unknown, mapping: ColumnMapping): Pick<SyncFileRecord, 'row' | 'problems'> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { row: {}, problems: [{ field: '/', message: 'must be a JSON object (one row)' }] };
  return { row: renameJsonRow(value as Record<string, unknown>, mapping), problems: [] };
}

async function* ndjsonRows(text: NodeJS.ReadableStream, mapping: ColumnMapping): AsyncGenerator<SyncFileRecord> {
  let line = 0;
  for await (const content of createInterface({ input: text, crlfDelay: Infinity })) {
    line++;
    if (content.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (error) {
      yield { line, row: {}, problems: [{ field: '/', message: `is not valid JSON (${(error as Error).message})` }] };
      continue;
    }
    yield { line, ...jsonRow(value, mapping) };
  }
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * The items of a JSON array of objects, read as a stream: a small scanner finds where each
 * top-level object starts and ends (tracking strings, escapes and nesting), and each object's
 * text is parsed on its own. Memory holds one item, not the array.
 */
async function* jsonArrayRows(text: AsyncIterable<string | Buffer>, mapping: ColumnMapping): AsyncGenerator<SyncFileRecord> {
  const shape = 'a .json file must be one JSON array of row objects (use .ndjson for one object per line)';
  let state: 'start' | 'before-item' | 'item' | 'after-item' | 'end' = 'start';
  let line = 1;
  let itemLine = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let afterComma = false;
  let pieces: string[] = [];
  let itemLength = 0;
  for await (const piece of text) {
    const chunk = typeof piece === 'string' ? piece : piece.toString('utf8');
    let itemStart = state === 'item' ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 0x0a) line++;
      if (state === 'item') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) {
            pieces.push(chunk.slice(itemStart, i + 1));
            const itemText = pieces.join('');
            pieces = [];
            itemLength = 0;
            state = 'after-item';
            let value: unknown;
            try {
              value = JSON.parse(itemText);
            } catch (error) {
              yield { line: itemLine, row: {}, problems: [{ field: '/', message: `is not valid JSON (${(error as Error).message})` }] };
              continue;
            }
            yield { line: itemLine, ...jsonRow(value, mapping) };
          }
        }
        continue;
      }
      if (WHITESPACE.has(c)) continue;
      if (state === 'start') {
        if (c !== 0x5b) throw new CliError(`line ${line}: ${shape}`);
        state = 'before-item';
      } else if (state === 'before-item') {
        if (c === 0x5d && !afterComma) state = 'end';
        else if (c === 0x7b) {
          state = 'item';
          depth = 1;
          itemStart = i;
          itemLine = line;
          afterComma = false;
        } else throw new CliError(`line ${line}: ${c === 0x5d ? 'a comma before "]"' : 'an item that is not an object'}: ${shape}`);
      } else if (state === 'after-item') {
        if (c === 0x2c) {
          state = 'before-item';
          afterComma = true;
        } else if (c === 0x5d) state = 'end';
        else throw new CliError(`line ${line}: expected "," or "]" after an item: ${shape}`);
      } else {
        throw new CliError(`line ${line}: text after the end of the array: ${shape}`);
      }
    }
    if (state === 'item') {
      const rest = chunk.slice(itemStart);
      itemLength += rest.length;
      if (itemLength > MAX_RECORD_BYTES) throw new CliError(`line ${itemLine}: an item longer than ${MAX_RECORD_BYTES} characters`);
      pieces.push(rest);
    }
  }
  if ((state as string) !== 'end') throw new CliError(state === 'start' ? `the file is empty: ${shape}` : `the JSON array is not closed (the file ends on line ${line})`);
}

type RowValidator = ((data: unknown) => boolean) & { errors?: AjvIssue[] | null };
let compiled: RowValidator | undefined;

/*
 * The API's validator (src/http/validation.ts) for the row schema, compiled once, when the first
 * row is checked (not when the CLI loads: every command, `serve` too, imports this module): the
 * same rules, formats and messages a row meets on the server, so a file that passes here is not
 * refused there for its shape.
 */
function validate(row: unknown): boolean {
  compiled ??= validatorCompiler({ schema: BulkUserRowSchema, httpPart: 'body', method: 'POST', url: '/v1/sync-runs/{id}/users' }) as RowValidator;
  return compiled(row);
}

const FIELD_LIST = [...ROW_FIELDS.keys()].join(', ');

/** The problems of a row against BulkUserRowSchema, in the API's words; none when it is valid. */
export function validateRow(row: Record<string, unknown>): FieldProblem[] {
  if (validate(row)) return [];
  return readableIssues(compiled?.errors ?? []).map((issue): FieldProblem => {
    if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') {
      return { field: `${issue.instancePath ?? ''}/${issue.params.additionalProperty}`, message: issue.instancePath ? 'is not allowed here' : `is not a field (fields: ${FIELD_LIST})` };
    }
    if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') return { field: `${issue.instancePath ?? ''}/${issue.params.missingProperty}`, message: 'is required' };
    return { field: issue.instancePath || '/', message: issue.message ?? 'is not valid' };
  });
}

/** One problem as the CLI prints it: `line 12: /email must be an email address`. */
export const describeProblem = (line: number, problem: FieldProblem): string => `line ${line}: ${problem.field} ${problem.message}`;

import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/cli-error.js';
import { describeProblem, readSyncFile, type SyncFileRecord } from '../../../src/cli/sync-file-reader.js';
import { cellOfValue, parseMapping, ROW_FIELDS, type ColumnMapping } from '../../../src/cli/sync-row-mapping.js';

/*
 * The reader of `roster sync` on real files: what an HR export really looks like (BOM,
 * semicolons, quoted line breaks, Excel's CRLF), what each bad row says, and that a large file is
 * streamed rather than held.
 */

const dir = mkdtempSync(join(tmpdir(), 'roster-sync-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A file of this content (text as UTF-8, or bytes) named with this extension. */
function file(content: string | Buffer, ext = 'csv'): string {
  const path = join(dir, `f${++n}.${ext}`);
  writeFileSync(path, content);
  return path;
}

async function read(path: string, options: { mapping?: ColumnMapping; format?: 'csv' | 'json' | 'ndjson' } = {}): Promise<SyncFileRecord[]> {
  const all: SyncFileRecord[] = [];
  for await (const record of readSyncFile(path, options)) all.push(record);
  return all;
}

const rows = async (path: string, options: Parameters<typeof read>[1] = {}) => (await read(path, options)).map((r) => r.row);
const problems = async (path: string, options: Parameters<typeof read>[1] = {}) =>
  (await read(path, options)).flatMap((r) => r.problems.map((p) => describeProblem(r.line, p)));
const failure = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('expected the read to fail');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(CliError);
      return (error as CliError).message;
    },
  );

describe('CSV', () => {
  it('reads quoted fields with delimiters, quotes and line breaks, numbering each record by its first line', async () => {
    const path = file('key,title,department\n1,"Head, Sales","He said ""hi"""\n2,"two\nlines\r\nhere",Ops\n\n3,plain,x\n4,"a\r\nb",\n5,x,y\n');
    const records = await read(path);
    expect(records.map((r) => [r.line, r.row])).toEqual([
      [2, { key: '1', title: 'Head, Sales', department: 'He said "hi"' }],
      [3, { key: '2', title: 'two\nlines\r\nhere', department: 'Ops' }],
      [7, { key: '3', title: 'plain', department: 'x' }],
      [8, { key: '4', title: 'a\r\nb' }],
      [10, { key: '5', title: 'x', department: 'y' }],
    ]);
    expect(records.every((r) => r.problems.length === 0)).toBe(true);
  });

  it('reads UTF-8 with a BOM and Excel\'s semicolons and CRLF; detects tabs', async () => {
    const semicolons = file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('key;givenName;familyName\r\n7;Jürgen;Müller\r\n8;"A;B";C\r\n')]));
    expect(await rows(semicolons)).toEqual([
      { key: '7', givenName: 'Jürgen', familyName: 'Müller' },
      { key: '8', givenName: 'A;B', familyName: 'C' },
    ]);
    const tabs = file('key\tdepartment\n9\tR&D, Labs\n');
    expect(await rows(tabs)).toEqual([{ key: '9', department: 'R&D, Labs' }]);
  });

  it('converts cells by the row schema: booleans, lists split on |, references, environments, JSON objects', async () => {
    const path = file(
      'key,preventDeprovision,groups,tags,manager,environments,attributes,status\n' +
        '1,yes,Sales|Berlin Office,a|b,boss-1,prod:view+run|staging,"{""shirt"":""M""}",active\n' +
        '2,0,,,"{""origin"":""hr"",""key"":""9""}",dev:admin,,\n',
    );
    expect(await rows(path)).toEqual([
      {
        key: '1', preventDeprovision: true, groups: ['Sales', 'Berlin Office'], tags: ['a', 'b'], manager: 'boss-1',
        environments: [{ environment: 'prod', permissions: ['view', 'run'] }, { environment: 'staging' }], attributes: { shirt: 'M' }, status: 'active',
      },
      // Empty cells are not sent at all.
      { key: '2', preventDeprovision: false, manager: { origin: 'hr', key: '9' }, environments: [{ environment: 'dev', permissions: ['admin'] }] },
    ]);
  });

  it('reports every bad row with its line and field, and each bad cell once', async () => {
    const path = file('key,email,preventDeprovision,status,attributes\n1,ok@example.com,true,active,\n2,not-an-email,maybe,asleep,{oops\n"",x@example.com,no,,\n4,a@example.com\n');
    expect(await problems(path)).toEqual([
      'line 3: /preventDeprovision must be true or false (also yes/no, 1/0), not "maybe"',
      // The parser's own words differ between Node versions (22 adds the line and column).
      expect.stringMatching(/^line 3: \/attributes must be an object as JSON \(Expected property name or '}' in JSON at position 1\b/),
      expect.stringMatching(/^line 3: \/status must be one of: .*active/),
      'line 3: /email must be an email address',
      'line 4: /key is required',
      'line 5: / has 2 cells; the header has 5',
    ]);
  });

  it('refuses unknown columns, listing them and the fields, before any row', async () => {
    const message = await failure(rows(file('key,Mail,Dept,title\n1,a@example.com,Ops,x\n')));
    expect(message).toContain('unknown columns "Mail", "Dept"');
    expect(message).toContain('userName, email, givenName');
    expect(await failure(rows(file('email\na@example.com\n')))).toMatch(/no "key" column/);
    expect(await failure(rows(file('')))).toMatch(/empty/);
  });

  it('maps columns, splits on the mapping\'s separator, ignores columns, and can make empty cells clear a field', async () => {
    const mapping = parseMapping({
      columns: { 'Employee ID': 'key', Mail: 'email', Groups: { field: 'groups', split: ';' }, Title: { field: 'title', empty: 'clear' } },
      ignore: ['Comment'],
    });
    const path = file('Employee ID,Mail,Groups,Title,Comment,department\n42,a@example.com,Sales; Ops ,,hi,\n');
    expect(await rows(path, { mapping })).toEqual([{ key: '42', email: 'a@example.com', groups: ['Sales', 'Ops'], title: null }]);
    expect(() => parseMapping({ columns: { A: 'nope' } })).toThrow(/maps to "nope", which is not a field/);
    expect(() => parseMapping({ columns: { A: 'email', B: 'email' } })).toThrow(/both map to email/);
    expect(() => parseMapping({ colums: {} })).toThrow(/unknown property colums/);
  });

  it('stops at broken quoting and at bytes that are not UTF-8, naming the line', async () => {
    expect(await failure(rows(file('key,title\n1,"open\n2,x\n')))).toMatch(/the CSV cannot be read: Quote Not Closed/);
    const latin1 = file(Buffer.concat([Buffer.from('key,familyName\n1,M'), Buffer.from([0xfc]), Buffer.from('ller\n')]));
    expect(await failure(rows(latin1))).toMatch(/is not UTF-8/);
  });

  it('reads back what export writes: lists holding the separator, edge spaces and empty values', async () => {
    const tags = ['a|b', 'c'];
    const header = 'key,tags,title,attributes';
    const cells = ['k', cellOfValue(tags, ROW_FIELDS.get('tags')!), cellOfValue(' spaced ', 'text'), cellOfValue({}, 'json')];
    const path = file(`${header}\n${cells.map((c) => (/[",\n]|^\s|\s$/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',')}\n`);
    expect(await rows(path)).toEqual([{ key: 'k', tags, title: ' spaced ' }]);
  });
});

describe('JSON and NDJSON', () => {
  it('streams a JSON array of rows with their lines, and reports items that are not rows', async () => {
    const path = file('[\n  {"key": "1", "title": "a } ] \\" {"},\n  {"key": "2",\n   "groups": ["x"]},\n  {"key": 3},\n  {"key": "4", "nope": 1}\n]\n', 'json');
    const records = await read(path);
    expect(records.map((r) => [r.line, r.row])).toEqual([
      [2, { key: '1', title: 'a } ] " {' }],
      [3, { key: '2', groups: ['x'] }],
      [5, { key: 3 }],
      [6, { key: '4', nope: 1 }],
    ]);
    expect(records.flatMap((r) => r.problems.map((p) => describeProblem(r.line, p)))).toEqual([
      'line 5: /key must be a string',
      expect.stringMatching(/^line 6: \/nope is not a field \(fields: key, userName/),
    ]);
    expect(await failure(rows(file('{"key": "1"}', 'json')))).toMatch(/line 1: a .json file must be one JSON array/);
    expect(await failure(rows(file('[{"key": "1"}, 2]', 'json')))).toMatch(/an item that is not an object/);
    expect(await failure(rows(file('[{"key": "1"}', 'json')))).toMatch(/not closed/);
    expect(await rows(file('[]', 'json'))).toEqual([]);
  });

  it('reads NDJSON line by line: a bad line is a bad row, the others still read', async () => {
    const path = file('{"key":"1","email":"a@example.com"}\n\n{"key":"2",\n[1]\n{"key":"4"}\n', 'ndjson');
    expect(await problems(path)).toEqual([expect.stringMatching(/^line 3: \/ is not valid JSON/), 'line 4: / must be a JSON object (one row)']);
    expect((await read(path)).filter((r) => r.problems.length === 0).map((r) => r.row)).toEqual([{ key: '1', email: 'a@example.com' }, { key: '4' }]);
  });

  it('applies the mapping\'s renames and ignores to JSON rows', async () => {
    const mapping = parseMapping({ columns: { id: 'key', mail: 'email' }, ignore: ['note'] });
    expect(await rows(file('{"id":"1","mail":"a@example.com","note":"x"}\n', 'ndjson'), { mapping })).toEqual([{ key: '1', email: 'a@example.com' }]);
  });

  it('takes the format from --format over the extension, and refuses an unknown extension', async () => {
    expect(await rows(file('{"key":"1"}\n', 'txt'), { format: 'ndjson' })).toEqual([{ key: '1' }]);
    expect(await failure(rows(file('key\n1\n', 'txt')))).toMatch(/cannot tell the format/);
  });
});

describe('streaming', () => {
  it('reads 200,000 CSV rows as a pulled stream: the file is read a few chunks ahead of the rows taken and the heap stays flat', { timeout: 120_000 }, async () => {
    const path = join(dir, 'big.csv');
    const out = createWriteStream(path);
    out.write('key,email,givenName,familyName,department,groups,preventDeprovision\n');
    for (let i = 0; i < 200_000; i++) {
      if (!out.write(`${i},user${i}@example.com,Given${i},"Family, ${i}",Department ${i % 50},g${i % 7}|g${i % 11},${i % 2 === 0}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');

    let count = 0;
    let lastLine = 0;
    let peak = 0;
    let baseline = 0;
    let bytesRead = 0;
    const size = statSync(path).size;
    for await (const record of readSyncFile(path, { onProgress: (bytes) => (bytesRead = bytes) })) {
      count++;
      lastLine = record.line;
      // Pulled, not pushed: the file is read only a few chunks ahead of the rows taken.
      if (count === 1000) expect(bytesRead).toBeLessThan(size / 20);
      if (record.problems.length > 0) throw new Error(describeProblem(record.line, record.problems[0]!));
      if (count === 10_000) {
        globalThis.gc?.();
        baseline = process.memoryUsage().heapUsed;
      }
      if (count % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(count).toBe(200_000);
    expect(lastLine).toBe(200_001);
    // The file is 16 MB as bytes and more as parsed rows: holding the rows grew the heap by
    // about 95 MB, streaming them about 30 MB of garbage not yet collected.
    expect(peak - baseline).toBeLessThan(60 * 1024 * 1024);
  });
});

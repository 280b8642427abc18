import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';

type BufferParser = (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => void;

/** The query parameters an NDJSON body of the bulk upsert takes the place of body fields with. */
const BODY_FIELDS_FROM_QUERY = ['origin', 'mode', 'dryRun'] as const;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `application/x-ndjson` bodies (one JSON object per line: the rows of a bulk upsert) become the
 * JSON body the route takes: `{origin, mode, dryRun, users: [line, …]}`, the three fields from the
 * query string. The result goes through the JSON parser (`json`), so an NDJSON body is checked
 * exactly as a JSON one is (UTF-8, depth, repeated keys, unstorable text, then the schema); row N
 * of the answer is the N-th non-empty line, counted from 0. A line that is not JSON is a 400
 * naming its line number (1-based).
 */
export function ndjsonBodyParser(json: BufferParser): BufferParser {
  return (request, body, done) => {
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      done(new AppError('request.malformed_json', 'The body is not valid UTF-8 (RFC 8259 §8.1). Send NDJSON encoded as UTF-8.'));
      return;
    }
    const lines: string[] = [];
    const all = text.split('\n');
    for (const [at, raw] of all.entries()) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      try {
        const value: unknown = JSON.parse(line);
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
      } catch {
        done(new AppError('request.malformed_json', `Line ${at + 1} of the NDJSON body is not a JSON object; each line must be one row.`, [{ field: `/body/line/${at + 1}`, message: 'is not a JSON object' }]));
        return;
      }
      lines.push(line);
    }
    const query = (request.query ?? {}) as Record<string, unknown>;
    const fields: string[] = [];
    for (const name of BODY_FIELDS_FROM_QUERY) {
      const value = query[name];
      if (typeof value !== 'string') continue;
      fields.push(`${JSON.stringify(name)}:${name === 'dryRun' && (value === 'true' || value === 'false') ? value : JSON.stringify(value)}`);
    }
    json(request, Buffer.from(`{${[...fields, `"users":[${lines.join(',')}]`].join(',')}}`, 'utf8'), done);
  };
}

import { accessSync, constants, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { StartupError } from '../errors/startup-error.js';

/** How long start-up waits for PostgreSQL to answer before saying it cannot be reached. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Checks that the database of `url` can be used, before anything is created or migrated:
 * PostgreSQL answers, the database exists and the credentials work; a SQLite file's directory
 * exists (created here when missing) and is writable. Throws a StartupError with one line
 * saying what to fix.
 */
export async function checkDatabase(url: string): Promise<void> {
  if (url.startsWith('sqlite:')) {
    checkSqlitePath(url.slice('sqlite:'.length));
    return;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A connection dropped after connecting must not become an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new StartupError(describePostgresError(url, error), { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * One line for an error that opening or migrating the database of `url` threw when it says the
 * database cannot be used (not there, not reachable, not writable, not a database); undefined for
 * any other error, which keeps its stack trace.
 */
export function describeDatabaseError(url: string, error: unknown): string | undefined {
  if (error instanceof StartupError) return error.message;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  if (url.startsWith('sqlite:')) {
    const file = resolve(url.slice('sqlite:'.length));
    if (['SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM', 'SQLITE_IOERR', 'SQLITE_FULL'].some((c) => code.startsWith(c))) {
      return `cannot open the SQLite database ${file}: ${(error as Error).message} (${code}; check DATABASE_URL and permissions)`;
    }
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return `${file} is not a usable SQLite database: ${(error as Error).message} (${code})`;
    return undefined;
  }
  if (/^(3D000|28P01|28000|42501|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/.test(code)) return describePostgresError(url, error);
  return undefined;
}

/** One line for a failure to connect to PostgreSQL, naming the host, database or user at fault. */
export function describePostgresError(url: string, error: unknown): string {
  const { host, port, database, user } = postgresTarget(url);
  const where = `PostgreSQL at ${host}:${port}`;
  const e = error as { code?: string; message?: string };
  switch (e.code) {
    case '3D000':
      return `database "${database}" does not exist on ${where}; create it first: createdb -h ${host} -p ${port} -U ${user} ${database}`;
    case 'ECONNREFUSED':
      return `cannot reach ${where}: connection refused (is it running? check DATABASE_URL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach ${where}: unknown host "${host}" (check DATABASE_URL)`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach ${where}: ${e.code} (check DATABASE_URL and the network)`;
    case '28P01':
    case '28000':
      return `${where} refused user "${user}": ${e.message} (check DATABASE_URL)`;
    case '42501':
      return `user "${user}" may not use database "${database}" on ${where}: ${e.message}`;
    default:
      if (/timeout/i.test(e.message ?? '')) return `cannot reach ${where}: no answer within ${CONNECT_TIMEOUT_MS / 1000} s (check DATABASE_URL and the network)`;
      return `cannot use ${where}: ${e.message ?? String(error)}${e.code ? ` (${e.code})` : ''}`;
  }
}

function postgresTarget(url: string): { host: string; port: string; database: string; user: string } {
  // pg reads the same defaults from the environment when the URL leaves them out.
  try {
    const u = new URL(url);
    return {
      host: decodeURIComponent(u.hostname) || process.env.PGHOST || 'localhost',
      port: u.port || process.env.PGPORT || '5432',
      database: decodeURIComponent(u.pathname.slice(1)) || process.env.PGDATABASE || decodeURIComponent(u.username) || 'postgres',
      user: decodeURIComponent(u.username) || process.env.PGUSER || process.env.USER || 'postgres',
    };
  } catch {
    return { host: '?', port: '?', database: '?', user: '?' };
  }
}

/** The database file must be a file (or not exist yet) in a directory this process can write. */
function checkSqlitePath(path: string): void {
  if (path === '' || path === ':memory:') return;
  const file = resolve(path);
  const stat = statOrUndefined(file);
  if (stat && !stat.isFile()) throw new StartupError(`the SQLite database ${file} is not a file (check DATABASE_URL)`);
  const dir = dirname(file);
  ensureDirectory(dir);
  try {
    accessSync(dir, constants.W_OK);
    if (stat) accessSync(file, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new StartupError(`cannot write ${stat ? file : `to the data directory ${dir}`}: ${(error as NodeJS.ErrnoException).code} (check DATABASE_URL and permissions)`, { cause: error });
  }
}

/**
 * Creates `dir` and its missing parents one at a time. Node's `mkdirSync(…, {recursive: true})`
 * never returns for a path under /proc (it keeps retrying on ENOENT at 100% CPU), so this walks
 * up to the nearest existing ancestor and creates each level with a plain mkdir. A failure
 * removes the directories created so far and throws a StartupError.
 */
export function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  let current = resolve(dir);
  for (;;) {
    const stat = statOrUndefined(current);
    if (stat) {
      if (!stat.isDirectory()) throw new StartupError(`cannot create the data directory ${dir}: ${current} is not a directory (check DATABASE_URL)`);
      break;
    }
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  const created: string[] = [];
  try {
    for (const d of missing) {
      mkdirSync(d);
      created.push(d);
    }
  } catch (error) {
    for (const d of created.reverse()) rmdirSync(d);
    throw new StartupError(`cannot create the data directory ${dir}: ${(error as NodeJS.ErrnoException).code} (check DATABASE_URL and permissions)`, { cause: error });
  }
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new StartupError(`cannot use ${path}: a parent is not a directory (check DATABASE_URL)`, { cause: error });
    throw new StartupError(`cannot use ${path}: ${(error as NodeJS.ErrnoException).code} (check DATABASE_URL and permissions)`, { cause: error });
  }
}

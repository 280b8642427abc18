import { CliError, EXIT_USAGE } from './cli-error.js';

/*
 * The HTTP side of `roster export` and `roster sync`: they talk to a running server, not to the
 * database, so they work from any machine that can reach the API and obey its scopes. Node's
 * global fetch (undici) is the client: no dependency to add.
 */

/** Where the server is and how to authenticate, from options and the environment. */
export interface ServerOptions {
  /** Base URL, e.g. http://127.0.0.1:3000 (`--url`, else ROSTER_URL). */
  url: string;
  /** A bearer token (an API token or an access token): `--token`, else ROSTER_TOKEN. */
  token?: string | undefined;
  /** Client credentials (ROSTER_CLIENT_ID / ROSTER_CLIENT_SECRET), exchanged for an access token. */
  clientId?: string | undefined;
  clientSecret?: string | undefined;
}

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** The server options of a command: its `--url`/`--token`, then the environment. */
export function serverOptions(opts: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv = process.env): ServerOptions {
  return {
    url: opts.url ?? env.ROSTER_URL ?? DEFAULT_URL,
    token: opts.token ?? env.ROSTER_TOKEN,
    clientId: env.ROSTER_CLIENT_ID,
    clientSecret: env.ROSTER_CLIENT_SECRET,
  };
}

/** An answer of the server that is not a success: its status, the problem's code and detail. */
export class HttpError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    detail: string,
    readonly what: string,
  ) {
    super(`${what}: ${code ? `${code}: ` : ''}${detail} (HTTP ${status})`);
  }
}

/**
 * A client of one Roster server. Every call sends and receives JSON; a problem+json (or OAuth)
 * answer becomes an HttpError carrying the server's code and words; an unreachable server one
 * line saying where it looked. With client credentials, an access token is fetched on first use
 * and fetched again once when the server says it expired (a long sync outlives a token).
 */
export class RosterClient {
  private readonly base: URL;
  private accessToken: string | undefined;

  constructor(private readonly options: ServerOptions) {
    try {
      this.base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    } catch {
      throw new CliError(`--url must be an http(s) URL such as ${DEFAULT_URL}, not "${options.url}"`, EXIT_USAGE);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new CliError(`--url must be an http(s) URL, not "${options.url}"`, EXIT_USAGE);
    if (!options.token && !(options.clientId && options.clientSecret)) {
      throw new CliError('no credentials: set ROSTER_CLIENT_ID and ROSTER_CLIENT_SECRET (an API client), or pass --token (or set ROSTER_TOKEN)', EXIT_USAGE);
    }
    this.accessToken = options.token;
  }

  /** The absolute URL of an API path with its query parameters (undefined ones left out). */
  url(path: string, query: Record<string, string | number | boolean | undefined> = {}): URL {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url;
  }

  /** Checks the credentials now (fetches the access token), so a wrong secret stops a command before its work. */
  async authenticate(): Promise<void> {
    if (this.accessToken === undefined) this.accessToken = await this.fetchToken();
  }

  /** GET/POST/DELETE an API path; the parsed JSON answer (undefined for 204). */
  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, options: { query?: Record<string, string | number | boolean | undefined>; body?: unknown } = {}): Promise<T> {
    await this.authenticate();
    const what = `${method} ${path}`;
    let response = await this.send(method, this.url(path, options.query), options.body, what);
    if (response.status === 401 && !this.options.token) {
      // Client credentials: the access token may have expired during a long run; one fresh try.
      await response.body?.cancel();
      this.accessToken = await this.fetchToken();
      response = await this.send(method, this.url(path, options.query), options.body, what);
    }
    if (!response.ok) throw await httpError(response, what);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private async send(method: string, url: URL, body: unknown, what: string): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.accessToken ?? ''}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, what);
  }

  private async fetch(url: URL, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`${what}: cannot reach the Roster server at ${this.base.origin} (${cause?.code ?? cause?.message ?? (error as Error).message}); is it running? Set --url or ROSTER_URL`);
    }
  }

  /** RFC 6749 §4.4: client credentials, sent in the form body. */
  private async fetchToken(): Promise<string> {
    const what = 'POST /v1/oauth/token';
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.options.clientId ?? '', client_secret: this.options.clientSecret ?? '' });
    const response = await this.fetch(this.url('/v1/oauth/token'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body }, what);
    if (!response.ok) {
      const error = await httpError(response, what);
      throw new CliError(`the server refused the client credentials of ROSTER_CLIENT_ID ${this.options.clientId ?? ''}: ${error.message}`);
    }
    return ((await response.json()) as { access_token: string }).access_token;
  }
}

/** The error of a failed answer: a problem's code and detail, an OAuth error, or the status text. */
async function httpError(response: Response, what: string): Promise<HttpError> {
  const text = await response.text().catch(() => '');
  let body: { code?: unknown; detail?: unknown; error?: unknown; error_description?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON (a proxy's page, say): the status says it.
  }
  if (typeof body.code === 'string') return new HttpError(response.status, body.code, typeof body.detail === 'string' ? body.detail : response.statusText, what);
  if (typeof body.error === 'string') return new HttpError(response.status, body.error, typeof body.error_description === 'string' ? body.error_description : '', what);
  if (response.status === 404) return new HttpError(404, undefined, `not found on this server (is ${response.url} a Roster server of a version with this endpoint?)`, what);
  return new HttpError(response.status, undefined, response.statusText || 'no detail', what);
}

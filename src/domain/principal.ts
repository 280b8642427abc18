import type { EventContext } from './event.js';

/** Scopes an API credential can hold. `admin` implies every other scope in its tenant. */
export const SCOPES = ['users:read', 'users:write', 'directory:read', 'directory:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const DEFAULT_TENANT_ID = 'default';

/** Who is calling: resolved once per request from a JWT or an API token. */
export interface Principal {
  tenantId: string;
  scopes: readonly Scope[];
  actorType: 'client' | 'api_token' | 'system';
  /** The api client's clientId, the API token's id, or a system name (cli, bootstrap). */
  actorId: string;
  /**
   * The stored row of the credential that authenticated the caller (`api_clients.id` of a client,
   * `api_tokens.id` of an API token); absent for system actors. A client deleted and recreated
   * with the same clientId gets another row, so what is kept per caller (idempotency keys) is
   * kept per row and never passes to the recreated one.
   */
  credentialRef?: string;
  /**
   * Where this call comes from (request id, later sync run, workflow or job), recorded on every
   * event it writes. Per call: set on a copy, never on a principal that is cached or shared.
   */
  context?: EventContext;
}

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

/** `x:write` implies `x:read`; `admin` implies everything. */
export function hasScope(granted: readonly Scope[], required: Scope): boolean {
  if (granted.includes('admin') || granted.includes(required)) return true;
  if (required.endsWith(':read')) return granted.includes(required.replace(':read', ':write') as Scope);
  return false;
}

/** Admins of the default tenant operate the whole installation (tenants, cross-tenant clients). */
export const isInstallationAdmin = (p: Principal): boolean => p.tenantId === DEFAULT_TENANT_ID && p.scopes.includes('admin');

export function systemPrincipal(tenantId: string, name: string): Principal {
  return { tenantId, scopes: ['admin'], actorType: 'system', actorId: name };
}

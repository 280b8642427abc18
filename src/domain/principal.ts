import type { EventContext } from './event.js';

/**
 * Scopes an API credential can hold. `admin` implies every other scope in its tenant; `scim`
 * (the SCIM 2.0 server under /scim/v2) implies nothing else and only `admin` implies it.
 */
export const SCOPES = ['users:read', 'users:write', 'directory:read', 'directory:write', 'scim', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** The values of `ScimSettings.owns`, in the order schemas list them. */
export const SCIM_OWNS = ['own', 'all'] as const;
/** The values of `ScimSettings.onDelete`, in the order schemas list them. */
export const SCIM_ON_DELETE = ['delete', 'suspend'] as const;
/** The longest `ScimSettings.origin`, in characters. */
export const SCIM_ORIGIN_MAX_LENGTH = 64;

/** How a SCIM client's writes are attributed and limited (one per credential). */
export interface ScimSettings {
  /** The externalIds origin SCIM `externalId` reads and writes, e.g. "entra"; identifier chars, 1..64. */
  origin: string;
  /** 'own': only users/groups this origin provisioned are visible (others 404); 'all': every one in the tenant. */
  owns: (typeof SCIM_OWNS)[number];
  /** What DELETE /scim/v2/Users/{id} does. */
  onDelete: (typeof SCIM_ON_DELETE)[number];
}

/**
 * What a credential without settings of its own gets: its own origin `scim` (so it never writes
 * another provider's ids), limited to what it provisioned, and deleting on DELETE as RFC 7644 §3.6 says.
 */
export const DEFAULT_SCIM_SETTINGS: ScimSettings = Object.freeze({ origin: 'scim', owns: 'own', onDelete: 'delete' });

/**
 * The SCIM settings as a credential row stores them (`scim_origin`, `scim_owns`, `scim_on_delete`):
 * null where the creator sent nothing, so the defaults apply.
 */
export type StoredScimSettings = { [K in keyof ScimSettings]: ScimSettings[K] | null };

/** A credential row with no SCIM settings of its own. */
export const NO_STORED_SCIM_SETTINGS: StoredScimSettings = Object.freeze({ origin: null, owns: null, onDelete: null });

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
  /**
   * Set for every credential that holds the `scim` scope (directly or through `admin`): its stored
   * settings, DEFAULT_SCIM_SETTINGS for what it leaves unset. Absent otherwise and for system actors.
   */
  scim?: ScimSettings;
}

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

/** `x:write` implies `x:read`; `admin` implies everything. */
export function hasScope(granted: readonly Scope[], required: Scope): boolean {
  if (granted.includes('admin') || granted.includes(required)) return true;
  if (required.endsWith(':read')) return granted.includes(required.replace(':read', ':write') as Scope);
  return false;
}

/**
 * The SCIM settings a credential with `scopes` acts under: undefined unless it holds `scim`
 * (or `admin`); otherwise what is stored, the defaults for what is not.
 */
export function effectiveScimSettings(scopes: readonly Scope[], stored: StoredScimSettings): ScimSettings | undefined {
  if (!hasScope(scopes, 'scim')) return undefined;
  return {
    origin: stored.origin ?? DEFAULT_SCIM_SETTINGS.origin,
    owns: stored.owns ?? DEFAULT_SCIM_SETTINGS.owns,
    onDelete: stored.onDelete ?? DEFAULT_SCIM_SETTINGS.onDelete,
  };
}

/**
 * The stored settings from the three columns of a credential row. A value outside its enum
 * (only a hand edit of the database can put one there) counts as unset, so the default applies.
 */
export function storedScimSettings(origin: string | null, owns: string | null, onDelete: string | null): StoredScimSettings {
  return {
    origin: origin === '' ? null : origin,
    owns: SCIM_OWNS.find((v) => v === owns) ?? null,
    onDelete: SCIM_ON_DELETE.find((v) => v === onDelete) ?? null,
  };
}

/** Admins of the default tenant operate the whole installation (tenants, cross-tenant clients). */
export const isInstallationAdmin = (p: Principal): boolean => p.tenantId === DEFAULT_TENANT_ID && p.scopes.includes('admin');

export function systemPrincipal(tenantId: string, name: string): Principal {
  return { tenantId, scopes: ['admin'], actorType: 'system', actorId: name };
}

import { AppError } from '../errors/app-error.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import { randomToken, sha256 } from '../lib/secrets.js';
import { effectiveScimSettings, type Principal } from '../domain/principal.js';
import type { ApiToken } from '../domain/credential.js';
import type { Store } from '../repositories/store.js';
import { grantableScopes, scimSettingsToStore, type ScimSettingsInput } from './scope-rules.js';

const PREFIX = 'rst_';
/** last_used_at is advisory; writing it at most once a minute keeps reads free of writes. */
const TOUCH_INTERVAL_MS = 60_000;

export interface CreateApiTokenInput extends ScimSettingsInput {
  name: string;
  scopes: string[];
  expiresAt?: string | undefined;
}

/** Long-lived bearer secrets for SCIM clients and scripts. Only a SHA-256 of each is stored. */
export class ApiTokenService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  looksLikeApiToken(bearer: string): boolean {
    return bearer.startsWith(PREFIX);
  }

  async create(principal: Principal, input: CreateApiTokenInput): Promise<{ token: ApiToken; secret: string }> {
    const scopes = grantableScopes(principal, input.scopes);
    const scim = scimSettingsToStore(scopes, input);
    const now = this.clock.now();
    if (input.expiresAt !== undefined && Date.parse(input.expiresAt) <= now.getTime()) {
      throw new AppError('request.validation_failed', 'expiresAt must be in the future.', [{ field: '/body/expiresAt', message: 'must be in the future' }]);
    }
    const secret = randomToken(PREFIX);
    const token: ApiToken = {
      id: newId(),
      tenantId: principal.tenantId,
      name: input.name,
      tokenHash: sha256(secret),
      tokenPrefix: secret.slice(0, PREFIX.length + 6),
      scopes,
      scim,
      createdBy: `${principal.actorType}:${principal.actorId}`,
      expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
      lastUsedAt: null,
      createdAt: now.toISOString(),
    };
    await this.store.transaction((repos) => repos.apiTokens.insert(token));
    return { token, secret };
  }

  async list(principal: Principal, limit: number, after?: string): Promise<ApiToken[]> {
    return this.store.repos.apiTokens.list(principal.tenantId, limit, after);
  }

  async get(principal: Principal, id: string): Promise<ApiToken> {
    const token = await this.store.repos.apiTokens.findById(principal.tenantId, id);
    if (!token) throw new AppError('api_token.not_found');
    return token;
  }

  async delete(principal: Principal, id: string): Promise<void> {
    if (!(await this.store.repos.apiTokens.delete(principal.tenantId, id))) throw new AppError('api_token.not_found');
  }

  /**
   * The caller an API token speaks for. Looked up on every request (one unique-index lookup, no
   * per-process cache): the row dies with its tenant (foreign-key cascade), so a deleted token, or
   * one of a deleted tenant, stops working at once in every process, even when a tenant of the
   * same id is created again. The row carries the token's SCIM settings (`principal.scim` when it
   * holds `scim` or `admin`).
   */
  async authenticate(secret: string): Promise<Principal> {
    const now = this.clock.now();
    const token = await this.store.repos.apiTokens.findByHash(sha256(secret));
    if (!token) throw new AppError('auth.invalid_token', 'The API token is not valid or has been deleted.');
    if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime()) {
      throw new AppError('auth.invalid_token', 'The API token has expired.');
    }
    if (token.lastUsedAt === null || now.getTime() - Date.parse(token.lastUsedAt) > TOUCH_INTERVAL_MS) {
      await this.store.repos.apiTokens.touch(token.id, now.toISOString());
    }
    const principal: Principal = { tenantId: token.tenantId, scopes: token.scopes, actorType: 'api_token', actorId: token.id, credentialRef: token.id };
    const scim = effectiveScimSettings(token.scopes, token.scim);
    return scim === undefined ? principal : { ...principal, scim };
  }
}

import { SignJWT, jwtVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import { AppError } from '../errors/app-error.js';
import { OAuthError } from '../errors/oauth-error.js';
import { addSeconds, type Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import { randomToken, sha256, type SecretHasher } from '../lib/secrets.js';
import { effectiveScimSettings, hasScope, isScope, type Principal, type Scope } from '../domain/principal.js';
import type { ApiClient } from '../domain/credential.js';
import type { Repositories, Store } from '../repositories/store.js';
import type { SigningKeyService } from './signing-key-service.js';
import type { ApiTokenService } from './api-token-service.js';

export interface TokenServiceOptions {
  issuer: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export interface ClientAuth {
  clientId: string;
  clientSecret: string;
}

type Signer = Awaited<ReturnType<SigningKeyService['signingKey']>>;

const REFRESH_PREFIX = 'rrt_';
export const AUDIENCE = 'roster-api';

/**
 * A verified JWT stays cached until it expires, so the hot path skips the signature check. Only
 * the signature is cached: whether the token may still act is asked of the database every time
 * (see `resolve`).
 */
const VERIFIED_CACHE_LIMIT = 10_000;

/** A verified access token: who it speaks for and what binds it to stored rows. */
interface VerifiedToken {
  principal: Principal;
  jti: string;
  /** Expiry, seconds since the epoch (the `exp` claim). */
  exp: number;
  /** The `cid` claim: the id of the api_clients row the token was issued to. */
  clientRef: string;
}

export class TokenService {
  private readonly verified = new Map<string, VerifiedToken>();
  // Verifying against a fixed hash when the client is unknown keeps response time the same for
  // unknown and known client ids, so ids cannot be enumerated by timing.
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly store: Store,
    private readonly keys: SigningKeyService,
    private readonly apiTokens: ApiTokenService,
    private readonly hasher: SecretHasher,
    private readonly clock: Clock,
    private readonly options: TokenServiceOptions,
  ) {}

  /**
   * Client credentials grant (RFC 6749 §4.4). The secret is verified first (slow, on purpose);
   * the tokens are then issued in a transaction that holds the client row and checks that it
   * still exists with the secret just verified: a delete or secret rotation that committed
   * meanwhile is an `invalid_client`, one still running waits and then revokes these tokens too.
   */
  async clientCredentials(auth: ClientAuth, requestedScope: string | undefined): Promise<TokenResponse> {
    const verified = await this.authenticateClient(auth);
    const scopes = narrowScopes(verified.scopes, requestedScope);
    const signer = await this.keys.signingKey();
    return this.store.transaction(async (repos) => {
      const client = await repos.clients.findByIdForShare(verified.tenantId, verified.id);
      if (!client || client.secretHash !== verified.secretHash) throw new OAuthError('invalid_client', 'Client authentication failed.');
      return this.issue(client, scopes, newId(), signer, repos);
    });
  }

  /**
   * Rotation: each refresh token works once. Presenting a spent or revoked one means it was
   * copied, so the whole family (every token descended from the same grant) is revoked.
   */
  async refresh(refreshToken: string, auth: ClientAuth | undefined, requestedScope: string | undefined): Promise<TokenResponse> {
    const now = this.clock.now();
    const stored = await this.store.repos.oauthTokens.findRefreshByHash(sha256(refreshToken));
    if (!stored) throw new OAuthError('invalid_grant', 'The refresh token is not valid.');
    if (auth) {
      const client = await this.authenticateClient(auth);
      if (client.id !== stored.clientRef) throw new OAuthError('invalid_grant', 'The refresh token was not issued to this client.');
    }
    if (stored.usedAt !== null || stored.revokedAt !== null) {
      await this.store.repos.oauthTokens.revokeFamily(stored.familyId, now.toISOString());
      throw new OAuthError('invalid_grant', 'The refresh token was already used; every token of its grant has been revoked.');
    }
    if (Date.parse(stored.expiresAt) <= now.getTime()) throw new OAuthError('invalid_grant', 'The refresh token has expired.');

    // Spending the old token and storing its successor is one transaction: a crash between the
    // two must not leave the client with no usable refresh token. The client row is held (FOR
    // SHARE) while it runs, so a concurrent secret rotation or delete of the client, which
    // revokes or deletes its refresh tokens, either waits and then catches the new token too, or
    // committed first and has already revoked the one presented (markUsed then finds it spent).
    // The key is fetched first: inside a transaction only `repos` of that transaction may be used.
    const signer = await this.keys.signingKey();
    const issued = await this.store.transaction(async (repos) => {
      const client = await repos.clients.findByIdForShare(stored.tenantId, stored.clientRef);
      if (!client) throw new OAuthError('invalid_grant', 'The client of this refresh token no longer exists.');
      // Scopes can only shrink: never beyond the grant, nor beyond what the client holds today.
      const allowed = stored.scopes.filter((s) => hasScope(client.scopes, s));
      const scopes = narrowScopes(allowed, requestedScope);
      if (!(await repos.oauthTokens.markUsed(stored.id, now.toISOString()))) return undefined;
      return this.issue(client, scopes, stored.familyId, signer, repos);
    });
    if (!issued) {
      await this.store.repos.oauthTokens.revokeFamily(stored.familyId, now.toISOString());
      throw new OAuthError('invalid_grant', 'The refresh token was already used or revoked; every token of its grant has been revoked.');
    }
    return issued;
  }

  /** RFC 7009: always succeeds for unknown tokens; a valid client may only revoke its own. */
  async revoke(token: string, auth: ClientAuth | undefined): Promise<void> {
    const client = auth ? await this.authenticateClient(auth) : undefined;
    const now = this.clock.now().toISOString();
    if (token.startsWith(REFRESH_PREFIX)) {
      const stored = await this.store.repos.oauthTokens.findRefreshByHash(sha256(token));
      if (stored && (!client || client.id === stored.clientRef)) await this.store.repos.oauthTokens.revokeFamily(stored.familyId, now);
      return;
    }
    const claims = await this.verifyJwt(token).catch(() => undefined);
    if (!claims) return;
    if (client && client.id !== claims.clientRef) return;
    await this.store.repos.oauthTokens.revokeAccessToken(claims.jti, claims.principal.tenantId, claims.clientRef, new Date(claims.exp * 1000).toISOString());
    this.verified.delete(token);
  }

  /** Forgets refresh tokens and revocations that can no longer be presented. */
  async purgeExpired(): Promise<void> {
    await this.store.repos.oauthTokens.purgeExpired(this.clock.now().toISOString());
  }

  /**
   * Resolves a bearer credential (a JWT access token or an API token) to the caller.
   *
   * A credential never outlives what it was issued to: every request asks the database, in one
   * indexed lookup, whether the api_clients row named by the token's `cid` claim (or the
   * api_tokens row) still exists in its tenant, and whether the token was revoked. A deleted
   * tenant or client takes its rows with it (foreign-key cascade) and a recreated one gets new
   * row ids, so no process, whatever it has cached, lets an old token into a new tenant or client
   * of the same name; revocations and deletions act at once in every process. The same lookup
   * reads the credential's SCIM settings into `principal.scim` when it holds `scim` (or `admin`).
   */
  async authenticate(bearer: string): Promise<Principal> {
    if (this.apiTokens.looksLikeApiToken(bearer)) return this.apiTokens.authenticate(bearer);
    const claims = await this.verifyJwt(bearer);
    const standing = await this.store.repos.oauthTokens.accessTokenStanding(claims.principal.tenantId, claims.clientRef, claims.jti);
    if (standing.state === 'gone') {
      this.verified.delete(bearer);
      throw new AppError('auth.invalid_token', 'The client or tenant this access token was issued to has been deleted.');
    }
    if (standing.state === 'revoked') {
      this.verified.delete(bearer);
      throw new AppError('auth.invalid_token', 'The access token has been revoked.');
    }
    // The cached principal is shared by every request with this token: the settings go on a copy.
    const scim = effectiveScimSettings(claims.principal.scopes, standing.scim);
    return scim === undefined ? claims.principal : { ...claims.principal, scim };
  }

  private async verifyJwt(token: string): Promise<VerifiedToken> {
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp > nowSeconds) return cached;
      this.verified.delete(token);
    }
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new AppError('auth.invalid_token', 'The bearer token is not a well-formed JWT or API token.');
    }
    const key = kid ? await this.keys.verificationKey(kid) : undefined;
    if (!key) throw new AppError('auth.invalid_token', 'The access token was not signed by a key of this server.');
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['EdDSA'],
        issuer: this.options.issuer,
        audience: AUDIENCE,
        typ: 'at+jwt',
        currentDate: this.clock.now(),
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      });
      const { tid: tenantId, cid: clientRef, scope } = payload;
      if (typeof tenantId !== 'string' || typeof clientRef !== 'string' || typeof scope !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') {
        throw new AppError('auth.invalid_token', 'The access token lacks required claims; request a new one.');
      }
      const scopes = scope.split(' ').filter(isScope);
      const entry: VerifiedToken = { principal: { tenantId, scopes, actorType: 'client', actorId: payload.sub ?? '', credentialRef: clientRef }, jti: payload.jti, exp: payload.exp, clientRef };
      if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
      this.verified.set(token, entry);
      return entry;
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AppError('auth.invalid_token', 'The access token has expired.');
      throw new AppError('auth.invalid_token', 'The access token is not valid.');
    }
  }

  private async authenticateClient(auth: ClientAuth): Promise<ApiClient> {
    const client = await this.store.repos.clients.findByClientId(auth.clientId);
    if (!client) {
      this.dummyHash ??= this.hasher.hash(randomToken(''));
      await this.hasher.verify(await this.dummyHash, auth.clientSecret);
      throw new OAuthError('invalid_client', 'Client authentication failed.');
    }
    if (!(await this.hasher.verify(client.secretHash, auth.clientSecret))) {
      throw new OAuthError('invalid_client', 'Client authentication failed.');
    }
    return client;
  }

  private async issue(client: ApiClient, scopes: Scope[], familyId: string, signer: Signer, repos: Repositories): Promise<TokenResponse> {
    const now = this.clock.now();
    const { kid, privateKey } = signer;
    const scope = scopes.join(' ');
    // tid: the tenant; cid: the api_clients row (a UUIDv7), which dies with the client and its
    // tenant, so the token cannot act for a client or tenant recreated under the same name.
    const accessToken = await new SignJWT({ scope, tid: client.tenantId, cid: client.id, client_id: client.clientId })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(this.options.issuer)
      .setAudience(AUDIENCE)
      .setSubject(client.clientId)
      .setJti(newId())
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(now.getTime() / 1000) + this.options.accessTokenTtlSeconds)
      .sign(privateKey);
    const refreshToken = randomToken(REFRESH_PREFIX);
    await repos.oauthTokens.insertRefresh({
      id: newId(),
      tenantId: client.tenantId,
      clientRef: client.id,
      familyId,
      tokenHash: sha256(refreshToken),
      scopes,
      expiresAt: addSeconds(now, this.options.refreshTokenTtlSeconds).toISOString(),
      usedAt: null,
      revokedAt: null,
      createdAt: now.toISOString(),
    });
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.options.accessTokenTtlSeconds, refresh_token: refreshToken, scope };
  }
}

/**
 * `scope` may only narrow what is granted (RFC 6749 §3.3); omitted means everything granted.
 * Implied scopes count as granted: an admin may ask for a token that can only read users.
 */
function narrowScopes(granted: readonly Scope[], requested: string | undefined): Scope[] {
  if (requested === undefined || requested.trim() === '') return [...granted];
  const asked = [...new Set(requested.trim().split(/\s+/))];
  const bad = asked.filter((s) => !isScope(s) || !hasScope(granted, s));
  if (bad.length > 0) throw new OAuthError('invalid_scope', `Scopes not granted to this client: ${bad.join(', ')}.`);
  return asked as Scope[];
}

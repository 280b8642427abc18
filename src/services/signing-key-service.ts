import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { Store } from '../repositories/store.js';
import type { SigningKeyRecord } from '../domain/credential.js';

const ALG = 'EdDSA';
type Key = Awaited<ReturnType<typeof importJWK>>;

interface LoadedKey {
  kid: string;
  createdAt: number;
  retiredAt: number | null;
  publicJwk: JWK;
  publicKey: Key;
  privateKey: Key;
}

export interface SigningKeyOptions {
  rotationDays: number;
  accessTokenTtlSeconds: number;
}

/**
 * Signing keys live in the database so every server process signs with and verifies the same
 * keys. Each process caches them and reloads when it meets a key id it does not know (another
 * process rotated) or when its cache is older than a minute. A retired key stays published in
 * the JWKS until every token it signed has expired.
 */
export class SigningKeyService {
  private keys: LoadedKey[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  private lastMissReload = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: SigningKeyOptions,
  ) {}

  async signingKey(): Promise<{ kid: string; privateKey: Key }> {
    await this.refreshIfStale();
    let active = this.keys.find((k) => k.retiredAt === null);
    const maxAgeMs = this.options.rotationDays * 86_400_000;
    if (!active || this.clock.now().getTime() - active.createdAt > maxAgeMs) {
      await this.rotate();
      active = this.keys.find((k) => k.retiredAt === null);
    }
    if (!active) throw new Error('no active signing key after rotation');
    return { kid: active.kid, privateKey: active.privateKey };
  }

  async verificationKey(kid: string): Promise<Key | undefined> {
    await this.refreshIfStale();
    let key = this.keys.find((k) => k.kid === kid);
    // An unknown kid may be a key another process just created; reload, but at most once a
    // second so a flood of forged kids cannot turn into a flood of queries.
    const now = this.clock.now().getTime();
    if (!key && now - this.lastMissReload > 1000) {
      this.lastMissReload = now;
      await this.reload();
      key = this.keys.find((k) => k.kid === kid);
    }
    return key?.publicKey;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    await this.refreshIfStale();
    if (this.keys.length === 0) await this.signingKey();
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Creates a new active key and retires the others (they remain verifiable). */
  async rotate(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true, crv: 'Ed25519' });
    const kid = newId();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
    const now = this.clock.now().toISOString();
    const record: SigningKeyRecord = { kid, alg: ALG, publicJwk: JSON.stringify(publicJwk), privateJwk: JSON.stringify(privateJwk), createdAt: now, retiredAt: null };
    await this.store.transaction(async (repos) => {
      await repos.signingKeys.insert(record);
      await repos.signingKeys.retireOthers(kid, now);
    });
    await this.reload();
    return kid;
  }

  private async refreshIfStale(): Promise<void> {
    if (this.clock.now().getTime() - this.loadedAt > 60_000 || this.keys.length === 0) await this.reload();
  }

  private async reload(): Promise<void> {
    // Concurrent callers share one reload instead of each querying.
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    await this.loading;
  }

  private async load(): Promise<void> {
    // Keep retired keys while a token they signed can still be valid (plus a minute of skew).
    const horizon = new Date(this.clock.now().getTime() - (this.options.accessTokenTtlSeconds + 60) * 1000).toISOString();
    const records = await this.store.repos.signingKeys.listVerifiable(horizon);
    const loaded: LoadedKey[] = [];
    for (const r of records) {
      const known = this.keys.find((k) => k.kid === r.kid);
      const retiredAt = r.retiredAt ? Date.parse(r.retiredAt) : null;
      if (known) {
        loaded.push({ ...known, retiredAt });
        continue;
      }
      const publicJwk = JSON.parse(r.publicJwk) as JWK;
      loaded.push({
        kid: r.kid,
        createdAt: Date.parse(r.createdAt),
        retiredAt,
        publicJwk,
        publicKey: await importJWK(publicJwk, ALG),
        privateKey: await importJWK(JSON.parse(r.privateJwk) as JWK, ALG),
      });
    }
    this.keys = loaded;
    this.loadedAt = this.clock.now().getTime();
  }
}

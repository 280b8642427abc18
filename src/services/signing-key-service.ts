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
  private rotating: Promise<void> | undefined;
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
      // Every request of this process that finds no fresh key shares one rotation, and a
      // rotation that another process already made is used instead of making another.
      this.rotating ??= this.rotateUnlessFresh(maxAgeMs).finally(() => (this.rotating = undefined));
      await this.rotating;
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

  /** Creates a new active key and retires the others (they remain verifiable). Returns its kid. */
  async rotate(): Promise<string> {
    return (await this.createKey(undefined)) as string;
  }

  /** The automatic rotation: a new key unless an active one younger than `maxAgeMs` exists by now. */
  private async rotateUnlessFresh(maxAgeMs: number): Promise<void> {
    await this.createKey(maxAgeMs);
  }

  /**
   * Inserts a new key and retires every other, under the installation's `signing-keys` lock, so
   * that of rotations running at once (several processes, or an operator's `keys rotate` during
   * an automatic one) each sees the last committed state and exactly one key stays active. With
   * `unlessFresherThanMs`, nothing is created when an active key of that age or younger already
   * exists (another process rotated first). Returns the new kid, or undefined when none was made.
   */
  private async createKey(unlessFresherThanMs: number | undefined): Promise<string | undefined> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true, crv: 'Ed25519' });
    const kid = newId();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
    const now = this.clock.now();
    const record: SigningKeyRecord = { kid, alg: ALG, publicJwk: JSON.stringify(publicJwk), privateJwk: JSON.stringify(privateJwk), createdAt: now.toISOString(), retiredAt: null };
    const created = await this.store.transaction(async (repos) => {
      await repos.locks.acquire(null, 'signing-keys');
      if (unlessFresherThanMs !== undefined) {
        const active = await repos.signingKeys.newestActive();
        if (active && now.getTime() - Date.parse(active.createdAt) <= unlessFresherThanMs) return false;
      }
      await repos.signingKeys.insert(record);
      await repos.signingKeys.retireOthers(kid, record.createdAt);
      return true;
    });
    await this.reload(true);
    return created ? kid : undefined;
  }

  private async refreshIfStale(): Promise<void> {
    if (this.clock.now().getTime() - this.loadedAt > 60_000 || this.keys.length === 0) await this.reload();
  }

  /** `afterWrite`: a load already running may have read before the write; wait for it and load again. */
  private async reload(afterWrite = false): Promise<void> {
    if (afterWrite && this.loading) await this.loading.catch(() => undefined);
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

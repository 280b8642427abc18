import type { Kysely, Selectable } from 'kysely';
import type { DB, SigningKeyTable } from '../db/schema.js';
import type { SigningKeyRecord } from '../domain/credential.js';

export class SigningKeyRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Keys still useful for verification: active ones and those retired after `retiredAfter`. */
  async listVerifiable(retiredAfter: string): Promise<SigningKeyRecord[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', retiredAfter)]))
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toRecord);
  }

  /** The newest active key (normally the only one), if any. */
  async newestActive(): Promise<SigningKeyRecord | undefined> {
    const row = await this.db.selectFrom('signing_keys').selectAll().where('retired_at', 'is', null).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
    return row && toRecord(row);
  }

  async insert(key: SigningKeyRecord): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        alg: key.alg,
        public_jwk: key.publicJwk,
        private_jwk: key.privateJwk,
        created_at: key.createdAt,
        retired_at: key.retiredAt,
      })
      .execute();
  }

  /** Retires every active key except `keepKid`; they stay published until their tokens expire. */
  async retireOthers(keepKid: string, at: string): Promise<void> {
    await this.db.updateTable('signing_keys').set({ retired_at: at }).where('kid', '!=', keepKid).where('retired_at', 'is', null).execute();
  }
}

function toRecord(row: Selectable<SigningKeyTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: row.public_jwk,
    privateJwk: row.private_jwk,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}

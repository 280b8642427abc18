import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';

/**
 * Two kinds of secret, two kinds of hash:
 * - Random high-entropy tokens we generate (API tokens, refresh tokens) are looked up on every
 *   request, so they are stored as SHA-256: a 256-bit random value cannot be brute-forced.
 * - Secrets a person may choose (client secrets set by env, later passwords) use argon2id with
 *   the OWASP parameters (m=19 MiB, t=2, p=1). @node-rs/argon2 hashes on the libuv thread pool,
 *   so the event loop is never blocked by it.
 */
export interface SecretHasher {
  hash(secret: string): Promise<string>;
  verify(hash: string, secret: string): Promise<boolean>;
}

// algorithm 2 is Argon2id (the package exports it as a const enum, which isolated modules cannot use).
const OWASP_ARGON2ID = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const argon2Hasher: SecretHasher = {
  hash: (secret) => argon2Hash(secret, OWASP_ARGON2ID),
  verify: async (hash, secret) => {
    try {
      return await argon2Verify(hash, secret);
    } catch {
      return false;
    }
  },
};

/** A URL-safe random token with a readable prefix (so leaked tokens are recognisable by scanners). */
export const randomToken = (prefix: string, bytes = 32): string => `${prefix}${randomBytes(bytes).toString('base64url')}`;

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

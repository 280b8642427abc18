import { AppError } from '../errors/app-error.js';
import type { IdentityLink, IdentityLinkInput } from '../domain/membership.js';
import type { Principal } from '../domain/principal.js';
import type { User } from '../domain/user.js';
import type { Repositories, Store } from '../repositories/store.js';
import { linkIdentity, unlinkIdentity } from './commands/identity-commands.js';
import type { UnitRunner } from './unit-of-work.js';

/**
 * Identity links: which account at which identity provider is this user. A provider's subject
 * belongs to at most one user (409 identity.subject_taken otherwise, enforced by a unique index).
 * Writes run the identity commands (src/services/commands/identity-commands.ts) in a unit each.
 */
export class IdentityService {
  constructor(
    private readonly store: Store,
    private readonly units: UnitRunner,
  ) {}

  async list(principal: Principal, userId: string): Promise<IdentityLink[]> {
    const repos = this.store.repos;
    await requireUser(repos, principal.tenantId, userId);
    return repos.identities.listByUser(principal.tenantId, userId);
  }

  async link(principal: Principal, userId: string, input: IdentityLinkInput): Promise<IdentityLink> {
    return this.units.run(principal, linkIdentity(userId, input));
  }

  async unlink(principal: Principal, userId: string, identityId: string): Promise<void> {
    await this.units.run(principal, unlinkIdentity(userId, identityId));
  }

  /** The user an identity provider knows as `subject` (e.g. the `sub` of its tokens). */
  async userBySubject(principal: Principal, providerId: string, subject: string): Promise<User> {
    const repos = this.store.repos;
    if (!(await repos.identities.findProvider(principal.tenantId, providerId))) throw new AppError('identity_provider.not_found', `No identity provider with id ${providerId}.`);
    const user = await repos.identities.findUserBySubject(principal.tenantId, providerId, subject);
    if (!user) throw new AppError('identity.not_found', `No user is linked to subject ${JSON.stringify(subject)} of identity provider ${providerId}.`);
    return user;
  }

}

async function requireUser(repos: Repositories, tenantId: string, userId: string): Promise<void> {
  if (!(await repos.users.exists(tenantId, userId))) throw new AppError('user.not_found', `No user with id ${userId}.`);
}

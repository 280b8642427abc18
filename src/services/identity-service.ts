import { AppError } from '../errors/app-error.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { EventType } from '../domain/event-catalogue.js';
import type { DomainEvent } from '../domain/event.js';
import { identityEventView, type IdentityLink, type IdentityLinkInput } from '../domain/membership.js';
import type { Principal } from '../domain/principal.js';
import type { User } from '../domain/user.js';
import type { Repositories, Store } from '../repositories/store.js';
import { newEvent } from './event-factory.js';

/**
 * Identity links: which account at which identity provider is this user. A provider's subject
 * belongs to at most one user (409 identity.subject_taken otherwise, enforced by a unique index).
 */
export class IdentityService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async list(principal: Principal, userId: string): Promise<IdentityLink[]> {
    const repos = this.store.repos;
    await requireUser(repos, principal.tenantId, userId);
    return repos.identities.listByUser(principal.tenantId, userId);
  }

  async link(principal: Principal, userId: string, input: IdentityLinkInput): Promise<IdentityLink> {
    const tenantId = principal.tenantId;
    return this.store.transaction(async (repos) => {
      await requireUser(repos, tenantId, userId);
      const provider = await repos.identities.findProvider(tenantId, input.providerId);
      if (!provider) {
        throw new AppError('directory.reference_not_found', `No identity provider with id ${input.providerId} in this tenant.`, [{ field: '/body/providerId', message: 'no such identity provider' }]);
      }
      const link: IdentityLink = {
        id: newId(),
        tenantId,
        userId,
        providerId: provider.id,
        providerName: provider.name,
        providerAlias: provider.alias,
        subject: input.subject,
        userName: input.userName ?? null,
        createdAt: this.clock.now().toISOString(),
      };
      await repos.identities.insert(link);
      await repos.events.append([this.event(principal, 'user.identity_linked', userId, { identity: { from: null, to: identityEventView(link) } })]);
      return link;
    });
  }

  async unlink(principal: Principal, userId: string, identityId: string): Promise<void> {
    const tenantId = principal.tenantId;
    await this.store.transaction(async (repos) => {
      await requireUser(repos, tenantId, userId);
      const link = await repos.identities.findById(tenantId, userId, identityId);
      if (!link || !(await repos.identities.delete(tenantId, userId, identityId))) {
        throw new AppError('identity.not_found', `User ${userId} has no identity link ${identityId}.`);
      }
      await repos.events.append([this.event(principal, 'user.identity_unlinked', userId, { identity: { from: identityEventView(link), to: null } })]);
    });
  }

  /** The user an identity provider knows as `subject` (e.g. the `sub` of its tokens). */
  async userBySubject(principal: Principal, providerId: string, subject: string): Promise<User> {
    const repos = this.store.repos;
    if (!(await repos.identities.findProvider(principal.tenantId, providerId))) throw new AppError('identity_provider.not_found', `No identity provider with id ${providerId}.`);
    const user = await repos.identities.findUserBySubject(principal.tenantId, providerId, subject);
    if (!user) throw new AppError('identity.not_found', `No user is linked to subject ${JSON.stringify(subject)} of identity provider ${providerId}.`);
    return user;
  }

  private event(principal: Principal, type: EventType, userId: string, changes: DomainEvent['changes']): DomainEvent {
    return newEvent(principal, this.clock, type, 'user', userId, changes);
  }
}

async function requireUser(repos: Repositories, tenantId: string, userId: string): Promise<void> {
  if (!(await repos.users.exists(tenantId, userId))) throw new AppError('user.not_found', `No user with id ${userId}.`);
}

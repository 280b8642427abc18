import { AppError } from '../../errors/app-error.js';
import { DIRECTORY } from '../../domain/directory.js';
import { newId } from '../../lib/ids.js';
import { identityEventView, type IdentityLink, type IdentityLinkInput } from '../../domain/membership.js';
import { newEvent } from '../event-factory.js';
import type { Command } from '../unit-of-work.js';
import { requireUser } from './membership-commands.js';

/**
 * Links a user to their account at an identity provider (`user.identity_linked`). A provider's
 * subject belongs to at most one user: a second link is 409 identity.subject_taken (a unique
 * index, so concurrent links cannot both win). 422 when the provider is not in the tenant.
 */
export function linkIdentity(userId: string, input: IdentityLinkInput): Command<IdentityLink> {
  return async (unit) => {
    await requireUser(unit, userId);
    // Hold the provider against a concurrent delete (which takes the provider's links with it,
    // one event each) until this link commits: the link is then either seen and unlinked, or refused.
    const held = await unit.context.existingIds(DIRECTORY.identity_provider, [input.providerId]);
    const provider = held.has(input.providerId) ? await unit.repos.identities.findProvider(unit.tenantId, input.providerId) : undefined;
    if (!provider) {
      throw new AppError('directory.reference_not_found', `No identity provider with id ${input.providerId} in this tenant.`, [
        { field: '/body/providerId', message: 'no such identity provider' },
      ]);
    }
    const link: IdentityLink = {
      id: newId(),
      tenantId: unit.tenantId,
      userId,
      providerId: provider.id,
      providerName: provider.name,
      providerAlias: provider.alias,
      subject: input.subject,
      userName: input.userName ?? null,
      createdAt: unit.now(),
    };
    await unit.repos.identities.insert(link);
    const event = newEvent(unit.principal, unit.clock, 'user.identity_linked', 'user', userId, { identity: { from: null, to: identityEventView(link) } });
    return { value: link, events: [event] };
  };
}

/** Removes one identity link (`user.identity_unlinked`); 404 identity.not_found when the user has no such link. */
export function unlinkIdentity(userId: string, identityId: string): Command<void> {
  return async (unit) => {
    await requireUser(unit, userId);
    const link = await unit.repos.identities.findById(unit.tenantId, userId, identityId);
    if (!link || !(await unit.repos.identities.delete(unit.tenantId, userId, identityId))) {
      throw new AppError('identity.not_found', `User ${userId} has no identity link ${identityId}.`);
    }
    const event = newEvent(unit.principal, unit.clock, 'user.identity_unlinked', 'user', userId, { identity: { from: identityEventView(link), to: null } });
    return { value: undefined, events: [event] };
  };
}

import { DIRECTORY, type DirectoryKind } from './directory.js';

/** What an event type is about and what its `changes` carry; served at GET /v1/event-types. */
export interface EventTypeDefinition {
  /** The `resource.type` of events of this type: 'user' or a directory kind. */
  resource: 'user' | DirectoryKind;
  description: string;
  /** What `changes` holds (always `{field: {from, to}}`, see FieldChanges in event.ts). */
  payload: string;
}

/** Lifecycle transitions: one type per transition, whichever endpoint or workflow made it. */
const lifecycle = (description: string): EventTypeDefinition => ({
  resource: 'user',
  description,
  payload: '`status` {from, to}. Other fields changed by the same request are in a `user.updated` written with it (one new version).',
});

/** The user's own events. One change gives one type, whichever endpoint (REST, SCIM, sync, CLI) made it. */
const USER_EVENTS = {
  'user.created': { resource: 'user', description: 'A user was created.', payload: 'Every writable user field that has a value, from null.' },
  'user.updated': {
    resource: 'user',
    description: 'User fields changed (a status change is a lifecycle event instead).',
    payload: 'Each writable user field that changed, {from, to}.',
  },
  'user.password_changed': {
    resource: 'user',
    description: "The user's password was set or changed (never the password or its hash).",
    payload: '`password` {from: null or "set", to: "set"}.',
  },
  'user.deleted': { resource: 'user', description: 'A user was deleted permanently.', payload: 'Every writable user field that had a value, to null.' },
  'user.memberships_changed': {
    resource: 'user',
    description: "The user's roles, groups, organizations or environments changed (also when the role, group… itself was deleted).",
    payload:
      '`roles`, `groups`, `organizations`, `environments`: sorted id lists {from, to}, only the kinds that changed; ' +
      '`environmentPermissions`: {environmentId: permissions} {from, to}.',
  },
  'user.identity_linked': {
    resource: 'user',
    description: 'An identity at a provider was linked to the user.',
    payload: '`identity` {from: null, to: {id, providerId, subject, userName}}.',
  },
  'user.identity_unlinked': {
    resource: 'user',
    description: 'An identity link was removed (also when its identity provider was deleted).',
    payload: '`identity` {from: {id, providerId, subject, userName}, to: null}.',
  },
  'user.activated': lifecycle('The user became active: can sign in and be provisioned.'),
  'user.suspended': lifecycle('The user was suspended (status suspended): access paused, data kept.'),
  'user.locked': lifecycle('The user was locked (status locked), e.g. by a security rule.'),
  'user.unlocked': lifecycle('The user was unlocked: left the locked status.'),
  'user.invited': lifecycle('The user was invited (status invited) and has not accepted yet.'),
  'user.staged': lifecycle('The user was staged (status staged): known before their start, not active yet.'),
  'user.offboarding_started': lifecycle('Offboarding started (status deprovisioning): access is being removed step by step.'),
  'user.deprovisioned': lifecycle('The user was deprovisioned (status deprovisioned): access removed everywhere.'),
} as const satisfies Record<`user.${string}`, EventTypeDefinition>;

const DIRECTORY_ACTIONS = ['created', 'updated', 'deleted'] as const;
type DirectoryAction = (typeof DIRECTORY_ACTIONS)[number];
/** `role.created`, `group.deleted`, …: three per directory kind. */
export type DirectoryEventType = `${DirectoryKind}.${DirectoryAction}`;

const DIRECTORY_PAYLOADS: Record<DirectoryAction, string> = {
  created: 'Every field of the record (as GET returns it, secrets left out), from null.',
  updated: 'Each field that changed, {from, to} (secret config values are never written; `configSecrets` lists their names).',
  deleted: 'Every field the record had, to null. Users who lost a membership or link get their own user event.',
};

/** Derived from DIRECTORY so a new directory kind has its events without another edit here. */
const DIRECTORY_EVENTS = Object.fromEntries(
  Object.values(DIRECTORY).flatMap((def) =>
    DIRECTORY_ACTIONS.map((action) => [
      `${def.kind}.${action}`,
      { resource: def.kind, description: `A ${def.kind.replaceAll('_', ' ')} was ${action}.`, payload: DIRECTORY_PAYLOADS[action] },
    ]),
  ),
) as Record<DirectoryEventType, EventTypeDefinition>;

/**
 * The one catalogue of event types, like `error-codes.ts` for errors. A type is part of the
 * public API (webhook and change-feed consumers branch on it): never rename or reuse one; add
 * new ones here. Events already stored keep the type they were written with.
 */
export const EVENT_CATALOGUE: Readonly<typeof USER_EVENTS & Record<DirectoryEventType, EventTypeDefinition>> = { ...USER_EVENTS, ...DIRECTORY_EVENTS };

export type EventType = keyof typeof EVENT_CATALOGUE;

export const isEventType = (value: string): value is EventType => Object.hasOwn(EVENT_CATALOGUE, value);

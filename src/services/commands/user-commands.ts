import { AppError } from '../../errors/app-error.js';
import { newId } from '../../lib/ids.js';
import { diffFields, type DomainEvent, type FieldChanges } from '../../domain/event.js';
import type { User, UserInput } from '../../domain/user.js';
import { USER_EVENT_FIELDS } from '../../domain/user-fields.js';
import {
  canonicalStatus, DEFAULT_USER_STATUS, INITIAL_USER_STATUSES, planTransition, type TransitionActor, type UserStatus,
} from '../../domain/user-lifecycle.js';
import { newEvent } from '../event-factory.js';
import type { Command, RowOutcome, UnitOfWork } from '../unit-of-work.js';
import { identifierKey } from '../../domain/identifier-key.js';
import { buildUser, writableFields } from '../user-rules.js';
import { checkUserReferences, loadUserForWrite, normaliseUserAttributes, type ExpectedVersion } from './user-checks.js';

/** The fields whose changes `user.updated` records; status changes are lifecycle events of their own. */
const UPDATE_FIELDS = USER_EVENT_FIELDS.filter((f) => f !== 'status');

/** How a write reads its input: a full replace clears what it omits (and needs every required attribute). */
export type UserWriteMode = 'replace' | 'patch';

/** Who asks for a status change: API callers, or Roster's own flows (system principals). */
const actorOf = (unit: UnitOfWork): TransitionActor => (unit.principal.actorType === 'system' ? 'system' : 'client');

/** A status as sent (states and the `inactive` alias) → the stored state; 400 for anything else. */
function requestedStatus(value: unknown): UserStatus {
  const status = typeof value === 'string' ? canonicalStatus(value) : undefined;
  if (!status) throw new AppError('request.validation_failed', `Unknown status ${JSON.stringify(value)}.`, [{ field: '/body/status', message: 'is not a user status' }]);
  return status;
}

function userEvent(unit: UnitOfWork, type: Parameters<typeof newEvent>[2], userId: string, changes: FieldChanges): DomainEvent {
  return newEvent(unit.principal, unit.clock, type, 'user', userId, changes);
}

/** What only Roster sets on a new user. */
export interface CreateUserOptions {
  /** The origin of the SCIM client creating the user (User.provisionedBy). */
  provisionedBy?: string;
  /**
   * The new user's id, when the caller chose it in advance (a bulk upsert plans ids so rows of
   * the same batch can name the user as their manager before it exists). A UUIDv7 from newId().
   */
  id?: string;
}

/**
 * Creates a user in the unit's tenant: 201-style result with a `user.created` event. A new user
 * starts `active` unless `status` says otherwise (one of INITIAL_USER_STATUSES; anything else is
 * a 400: no transition leads into the other states from nothing). References and attributes are checked in the unit.
 */
export function createUser(input: UserInput, options: CreateUserOptions = {}): Command<User> {
  return async (unit) => {
    const status = input.status === undefined ? DEFAULT_USER_STATUS : requestedStatus(input.status);
    if (!INITIAL_USER_STATUSES.includes(status)) {
      throw new AppError('request.validation_failed', `A new user cannot start as ${status}; it starts as one of: ${INITIAL_USER_STATUSES.join(', ')}.`, [
        { field: '/body/status', message: `must be one of ${INITIAL_USER_STATUSES.join(', ')}` },
      ]);
    }
    const now = unit.now();
    const base = { id: options.id ?? newId(), tenantId: unit.tenantId, createdAt: now, version: 1, status, lastLoginAt: null, provisionedBy: options.provisionedBy ?? null };
    const user = buildUser(base, { ...input, status }, now);
    await normaliseUserAttributes(unit, user, null);
    await checkUserReferences(unit, user, null, undefined, true);
    await unit.repos.users.insert(user).catch(explainDerivedUserName(input, user));
    return { value: user, events: [userEvent(unit, 'user.created', user.id, diffFields(null, writableFields(user), USER_EVENT_FIELDS))] };
  };
}

/**
 * Changes a user: `change` turns the stored user into the complete input of the write (a PUT
 * body, or the stored fields merge-patched). Fields other than status are written as one
 * `user.updated`; a status change goes through the lifecycle table (src/domain/user-lifecycle.ts)
 * and writes that transition's event. A write that changes nothing writes nothing and keeps the
 * version. `visible` hides users the caller may not see (404). Errors: 404, 412 (If-Match), 409
 * user.transition_not_allowed, 422 references.
 */
export function updateUser(
  id: string,
  expected: ExpectedVersion,
  change: (current: User) => UserInput,
  mode: UserWriteMode,
  visible?: (user: User) => boolean,
): Command<User> {
  return async (unit) => updateLoadedUser(await loadUserForWrite(unit, id, expected, 'update', visible), change, mode)(unit);
}

/**
 * `updateUser` for a user the unit has already read and locked (a bulk chunk locks all its users
 * in one query): the same rules, events and version check, without reading the user again.
 * Nothing is written before the last step, so an AppError leaves the unit as it was.
 */
export function updateLoadedUser(current: User, change: (current: User) => UserInput, mode: UserWriteMode): Command<User> {
  return async (unit) => {
    const { id } = current;
    const input = change(current);
    const wanted = input.status === undefined ? current.status : requestedStatus(input.status);
    const next = buildUser(current, { ...input, status: current.status }, unit.now(), current);
    // Before the diff: the same instant in another offset is no change.
    await normaliseUserAttributes(unit, next, current);
    const changes = diffFields(writableFields(current), writableFields(next), UPDATE_FIELDS);
    const plan = planTransition(current.status, wanted, actorOf(unit));
    if (plan.kind === 'refused') {
      const allowed = plan.allowed.length > 0 ? plan.allowed.join(', ') : 'none';
      throw new AppError('user.transition_not_allowed', `The user is ${current.status} and cannot become ${wanted}; allowed next states: ${allowed}.`, [
        { field: '/body/status', message: `allowed from ${current.status}: ${allowed}` },
      ]);
    }
    if (Object.keys(changes).length === 0 && plan.kind === 'none') return { value: current, events: [] };

    if (plan.kind === 'move') next.status = plan.transition.to;
    next.version = current.version + 1;
    await checkUserReferences(unit, next, current, new Set(Object.keys(changes)), mode === 'replace');
    // The row is locked (loadUserForWrite), so the version cannot have moved: this is a safety net.
    const updated = await unit.repos.users.update(next, current.version, changes.externalIds !== undefined).catch(explainDerivedUserName(input, next));
    if (!updated) throw new AppError('user.concurrent_update');

    const events: DomainEvent[] = [];
    if (Object.keys(changes).length > 0) events.push(userEvent(unit, 'user.updated', id, changes));
    if (plan.kind === 'move') events.push(userEvent(unit, plan.transition.event, id, { status: { from: current.status, to: next.status } }));
    return { value: next, events };
  };
}

/**
 * A userName that was not sent is the email (user-rules.ts): when it is taken, the client sent
 * an email, not a userName, so the 409 names `email` and its value rather than a field the
 * client never wrote.
 */
function explainDerivedUserName(input: UserInput, user: User) {
  return (error: unknown): never => {
    const sentUserName = typeof input.userName === 'string' && input.userName.trim() !== '';
    if (!(error instanceof AppError && error.code === 'user.username_taken') || sentUserName || !user.email) throw error;
    throw new AppError(
      'user.username_taken',
      `Another user in this tenant already has the userName ${JSON.stringify(user.email)}, which this user would get from its email (a userName defaults to the email). Send another email, or a userName of its own.`,
      [{ field: '/body/email', message: `${JSON.stringify(user.email)} is already the userName of another user` }],
    );
  };
}

/**
 * Moves a user to `status` through the lifecycle table (the action endpoints and Roster's own
 * flows): repeating a transition that already happened changes nothing and writes nothing.
 */
export function transitionUser(id: string, status: UserStatus, expected: ExpectedVersion): Command<User> {
  return updateUser(id, expected, (current) => ({ ...(writableFields(current) as UserInput), status }), 'patch');
}

/**
 * Sets the user's password to an argon2id hash computed before the unit (hashing never runs
 * inside a transaction). The hash is not part of the user's representation, so the version stays;
 * `user.password_changed` says that it changed and by whom, never what it is.
 */
export function setUserPassword(id: string, passwordHash: string): Command<void> {
  return async (unit) => {
    const previous = await unit.repos.users.setPasswordHash(unit.tenantId, id, passwordHash);
    if (previous === undefined) throw new AppError('user.not_found', `No user with id ${id}.`);
    return { value: undefined, events: [userEvent(unit, 'user.password_changed', id, { password: { from: previous ? 'set' : null, to: 'set' } })] };
  };
}

/** One row of `createUsers`: what `createUser` takes. */
export interface NewUserRow {
  input: UserInput;
  options?: CreateUserOptions;
}

/**
 * Creates many users in the caller's unit, as `createUser` would one by one, with the writes
 * batched (UserRepository.insertMany): each row is checked alone, and a row that fails (a bad
 * value, a reference that does not hold, a userName or external id that a stored user or an
 * earlier row of the list that was created holds) is an error of its own while the others are
 * created. Outcomes come back
 * in input order; each created user has its `user.created`. For lists without references among
 * their own rows (a manager created in the same list goes through `createUser` after it).
 */
export function createUsers(rows: readonly NewUserRow[]): Command<RowOutcome<User>[]> {
  return async (unit) => {
    const outcomes: RowOutcome<User>[] = new Array(rows.length);
    const now = unit.now();
    let pending: PendingRow[] = [];
    for (const [at, row] of rows.entries()) {
      try {
        const status = row.input.status === undefined ? DEFAULT_USER_STATUS : requestedStatus(row.input.status);
        if (!INITIAL_USER_STATUSES.includes(status)) throw new AppError('request.validation_failed', `A new user cannot start as ${status}; it starts as one of: ${INITIAL_USER_STATUSES.join(', ')}.`);
        const base = { id: row.options?.id ?? newId(), tenantId: unit.tenantId, createdAt: now, version: 1, status, lastLoginAt: null, provisionedBy: row.options?.provisionedBy ?? null };
        const user = buildUser(base, { ...row.input, status }, now);
        await normaliseUserAttributes(unit, user, null);
        await checkUserReferences(unit, user, null, undefined, true);
        pending.push({ user, input: row.input, at, keys: uniqueKeys(user) });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        outcomes[at] = { ok: false, error };
      }
    }
    // Rounds: the first row holding a userName or external id goes in; a later row with the same
    // one waits for that row's outcome, and fails only if it was created (as one by one would).
    const holders = new Map<string, number>();
    const events: DomainEvent[] = [];
    while (pending.length > 0) {
      const round: PendingRow[] = [];
      const waiting: PendingRow[] = [];
      const claimed = new Set<string>();
      for (const row of pending) {
        const held = row.keys.find((k) => holders.has(k.id));
        if (held) outcomes[row.at] = { ok: false, error: repeatedKey(row.user, held, holders.get(held.id) as number) };
        else if (row.keys.some((k) => claimed.has(k.id))) waiting.push(row);
        else {
          for (const k of row.keys) claimed.add(k.id);
          round.push(row);
        }
      }
      const { taken } = await unit.repos.users.insertMany(round.map((r) => r.user));
      for (const { user, input, at, keys } of round) {
        const conflict = taken.get(user.id);
        if (conflict) {
          let error: unknown = conflict;
          try {
            explainDerivedUserName(input, user)(conflict);
          } catch (explained) {
            error = explained;
          }
          outcomes[at] = { ok: false, error };
          continue;
        }
        outcomes[at] = { ok: true, value: user };
        for (const k of keys) holders.set(k.id, at);
        events.push(userEvent(unit, 'user.created', user.id, diffFields(null, writableFields(user), USER_EVENT_FIELDS)));
      }
      pending = waiting;
    }
    return { value: outcomes, events };
  };
}

/** A row of createUsers checked alone, with the unique values it claims. */
interface PendingRow {
  user: User;
  input: UserInput;
  at: number;
  keys: UniqueKey[];
}

/** A value unique per tenant, in comparison form (`id`), and where the user holds it. */
interface UniqueKey {
  id: string;
  field: 'userName' | 'externalIds';
  index?: number;
}

function uniqueKeys(user: User): UniqueKey[] {
  return [
    { id: `u\u0000${identifierKey(user.userName)}`, field: 'userName' },
    ...user.externalIds.map((e, index) => ({ id: `e\u0000${identifierKey(e.origin)}\u0000${identifierKey(e.key)}`, field: 'externalIds' as const, index })),
  ];
}

/** 409: an earlier row of the same list was created with this userName or external id. */
function repeatedKey(user: User, key: UniqueKey, row: number): AppError {
  if (key.field === 'userName') {
    return new AppError('user.username_taken', `Row ${row} of this request already has the userName ${JSON.stringify(user.userName)} (compared ignoring case).`, [
      { field: '/body/userName', message: 'is already taken' },
    ]);
  }
  const e = user.externalIds[key.index as number] as { origin: string; key: string };
  return new AppError('user.external_id_taken', `Row ${row} of this request already has the external id {origin: ${JSON.stringify(e.origin)}, key: ${JSON.stringify(e.key)}}.`, [
    { field: `/body/externalIds/${key.index}`, message: 'is already taken' },
  ]);
}

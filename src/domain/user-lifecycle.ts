/**
 * The user lifecycle as data: the states of DESIGN.md and the one table of allowed transitions,
 * each with the event it writes. PATCH/PUT of `status`, the action endpoints (activate,
 * suspend), and every later caller (offboarding, sign-in lockout, scheduled provisioning) go
 * through `planTransition`, so a state can only be reached the way this table allows.
 *
 *   staged ─┬─> invited ─┬─> active <─> suspended
 *           └────────────┘     │  ^
 *                              v  │
 *                            locked
 *   any of staged, invited, active, suspended, locked ──> deprovisioning ──> deprovisioned
 *   deprovisioning ──> active | suspended (offboarding aborted)
 *   deprovisioned ──> active (re-hire)
 */
export const USER_STATUSES = ['staged', 'invited', 'active', 'suspended', 'locked', 'deprovisioning', 'deprovisioned'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/**
 * Older spellings accepted on input for one release and stored as their target: `inactive` was
 * the name of `suspended` before the lifecycle had its full set of states.
 */
export const USER_STATUS_ALIASES = { inactive: 'suspended' } as const satisfies Record<string, UserStatus>;
export type UserStatusAlias = keyof typeof USER_STATUS_ALIASES;

/** Every status a client may write (the states plus the aliases). */
export const USER_STATUS_INPUTS: readonly (UserStatus | UserStatusAlias)[] = [...USER_STATUSES, ...(Object.keys(USER_STATUS_ALIASES) as UserStatusAlias[])];

/** The event a transition writes (see src/domain/event-catalogue.ts). */
export type LifecycleEvent =
  | 'user.activated'
  | 'user.suspended'
  | 'user.locked'
  | 'user.unlocked'
  | 'user.invited'
  | 'user.staged'
  | 'user.offboarding_started'
  | 'user.deprovisioned';

/**
 * Who may ask for a transition: `client` — through the API's status field and the action
 * endpoints; `system` — only Roster's own flows (lockout, offboarding, provisioning).
 */
export type TransitionActor = 'client' | 'system';

export interface Transition {
  from: UserStatus;
  to: UserStatus;
  event: LifecycleEvent;
  by: readonly TransitionActor[];
}

const both: readonly TransitionActor[] = ['client', 'system'];
const system: readonly TransitionActor[] = ['system'];

/** The whole table. A pair that is not listed is not allowed. */
export const USER_TRANSITIONS: readonly Transition[] = [
  { from: 'staged', to: 'invited', event: 'user.invited', by: both },
  { from: 'staged', to: 'active', event: 'user.activated', by: both },
  { from: 'staged', to: 'suspended', event: 'user.suspended', by: both },
  { from: 'invited', to: 'active', event: 'user.activated', by: both },
  { from: 'invited', to: 'suspended', event: 'user.suspended', by: both },
  { from: 'active', to: 'suspended', event: 'user.suspended', by: both },
  { from: 'active', to: 'locked', event: 'user.locked', by: system },
  { from: 'suspended', to: 'active', event: 'user.activated', by: both },
  { from: 'suspended', to: 'staged', event: 'user.staged', by: system },
  { from: 'locked', to: 'active', event: 'user.unlocked', by: both },
  { from: 'locked', to: 'suspended', event: 'user.suspended', by: both },
  ...(['staged', 'invited', 'active', 'suspended', 'locked'] as const).map(
    (from): Transition => ({ from, to: 'deprovisioning', event: 'user.offboarding_started', by: system }),
  ),
  { from: 'deprovisioning', to: 'deprovisioned', event: 'user.deprovisioned', by: system },
  { from: 'deprovisioning', to: 'active', event: 'user.activated', by: system },
  { from: 'deprovisioning', to: 'suspended', event: 'user.suspended', by: system },
  { from: 'deprovisioned', to: 'active', event: 'user.activated', by: both },
];

/** The states a new user may start in, and the default. */
export const INITIAL_USER_STATUSES: readonly UserStatus[] = ['active', 'suspended', 'staged', 'invited'];
export const DEFAULT_USER_STATUS: UserStatus = 'active';

const byPair = new Map(USER_TRANSITIONS.map((t) => [`${t.from}>${t.to}`, t]));

/** The stored status for an input spelling (`inactive` → `suspended`); undefined when unknown. */
export function canonicalStatus(input: string): UserStatus | undefined {
  if ((USER_STATUSES as readonly string[]).includes(input)) return input as UserStatus;
  return Object.hasOwn(USER_STATUS_ALIASES, input) ? USER_STATUS_ALIASES[input as UserStatusAlias] : undefined;
}

/** The states `actor` may move a user to from `from`, in table order. */
export function nextStatuses(from: UserStatus, actor: TransitionActor): UserStatus[] {
  return USER_TRANSITIONS.filter((t) => t.from === from && t.by.includes(actor)).map((t) => t.to);
}

/**
 * What moving a user from `from` to `to` means:
 * - `{ kind: 'none' }` when the user is already there (repeating a transition writes nothing);
 * - `{ kind: 'move', transition }` when the table allows it for this actor;
 * - `{ kind: 'refused', allowed }` otherwise, with the states this actor could move to instead.
 */
export type TransitionPlan = { kind: 'none' } | { kind: 'move'; transition: Transition } | { kind: 'refused'; allowed: UserStatus[] };

export function planTransition(from: UserStatus, to: UserStatus, actor: TransitionActor): TransitionPlan {
  if (from === to) return { kind: 'none' };
  const transition = byPair.get(`${from}>${to}`);
  if (transition && transition.by.includes(actor)) return { kind: 'move', transition };
  return { kind: 'refused', allowed: nextStatuses(from, actor) };
}

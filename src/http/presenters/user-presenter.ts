import { DIRECTORY, type DirectoryDefinition, type DirectoryRecord } from '../../domain/directory.js';
import type { User } from '../../domain/user.js';
import { USER_FIELD_NAMES } from '../../domain/user-fields.js';
import type { UserExpansion, UserRelation } from '../../domain/user-expansion.js';
import type { ExpandableRelation, ExpandItem } from '../../filter/expand-parser.js';
import { publicView } from '../../domain/directory-view.js';
import { compileFieldMapper } from '../../lib/field-mapper.js';
import type { UserResource } from '../schemas/user-schemas.js';

/**
 * The one place a user becomes JSON: every public field of USER_FIELDS, in registry order.
 * Internal fields (tenantId) never leave.
 */
export const presentUser: (user: User) => UserResource = compileFieldMapper(USER_FIELD_NAMES.map((name) => ({ to: name, from: name })));

/** $select: id always, plus the fields asked for. */
export function presentUserSelected(user: User, select: readonly string[] | undefined, expansion?: UserExpansion, expand: readonly ExpandItem[] = []): Record<string, unknown> {
  const selected = pick(presentUser(user), select);
  return expand.length > 0 && expansion ? { ...selected, ...presentExpansion(expansion, expand) } : selected;
}

/** A single user with its expanded relations (GET /v1/users/{id}?$expand=…). */
export const presentUserExpanded = (user: User, expansion: UserExpansion | undefined, expand: readonly ExpandItem[]): Record<string, unknown> =>
  presentUserSelected(user, undefined, expansion, expand);

const directoryFields = (def: DirectoryDefinition): string[] => ['id', ...Object.keys(def.fields), 'createdAt', 'updatedAt', 'version'];
const IDENTITY_LINK_FIELDS = ['id', 'providerId', 'providerName', 'providerAlias', 'subject', 'userName', 'createdAt'];

/** What `$expand` accepts on users, and the fields each relation's nested `$select` may name. */
export const USER_EXPANDABLE: Record<UserRelation, ExpandableRelation> = {
  manager: { selectable: USER_FIELD_NAMES },
  position: { selectable: directoryFields(DIRECTORY.position) },
  area: { selectable: directoryFields(DIRECTORY.area) },
  roles: { selectable: directoryFields(DIRECTORY.role) },
  groups: { selectable: directoryFields(DIRECTORY.group) },
  organizations: { selectable: directoryFields(DIRECTORY.organization) },
  environments: { selectable: [...directoryFields(DIRECTORY.environment), 'permissions'] },
  identities: { selectable: IDENTITY_LINK_FIELDS },
};

/**
 * The expanded relations as properties of the user: manager/position/area an object or null,
 * the memberships arrays. A nested $select keeps id plus the fields named, like the top level.
 */
function presentExpansion(expansion: UserExpansion, expand: readonly ExpandItem[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, select } of expand) {
    switch (name as UserRelation) {
      case 'manager':
        out.manager = expansion.manager ? pick(presentUser(expansion.manager), select) : null;
        break;
      case 'position':
        out.position = expansion.position ? record(DIRECTORY.position, expansion.position, select) : null;
        break;
      case 'area':
        out.area = expansion.area ? record(DIRECTORY.area, expansion.area, select) : null;
        break;
      case 'roles':
        out.roles = (expansion.roles ?? []).map((r) => record(DIRECTORY.role, r, select));
        break;
      case 'groups':
        out.groups = (expansion.groups ?? []).map((r) => record(DIRECTORY.group, r, select));
        break;
      case 'organizations':
        out.organizations = (expansion.organizations ?? []).map((r) => record(DIRECTORY.organization, r, select));
        break;
      case 'environments':
        out.environments = (expansion.environments ?? []).map((m) => pick({ ...publicView(DIRECTORY.environment, m.environment), permissions: m.permissions }, select));
        break;
      case 'identities':
        out.identities = (expansion.identities ?? []).map((link) => pick({ ...link }, select));
        break;
    }
  }
  return out;
}

/**
 * The view of an expanded record, built once per record object: the loaders hand every user of
 * a page the same object for the same group, so a page of 100 users in 3 of 50 groups builds 50
 * views, not 300. Keyed by the $select array too, so a record is never shown with another one's fields.
 */
const recordViews = new WeakMap<DirectoryRecord, { select: readonly string[] | undefined; view: Record<string, unknown> }>();

function record(def: DirectoryDefinition, r: DirectoryRecord, select: readonly string[] | undefined): Record<string, unknown> {
  const cached = recordViews.get(r);
  if (cached && cached.select === select) return cached.view;
  const view = pick(publicView(def, r), select);
  recordViews.set(r, { select, view });
  return view;
}

function pick(full: Record<string, unknown>, select: readonly string[] | undefined): Record<string, unknown> {
  if (!select) return full;
  return Object.fromEntries(['id', ...select.filter((f) => f !== 'id')].map((f) => [f, full[f]]));
}

export const userEtag = (user: Pick<User, 'version'>): string => `W/"${user.version}"`;

import { sql, type Kysely, type Migration } from 'kysely';
import { identifierKey } from '../../domain/identifier-key.js';

/**
 * The comparison copies of identifiers and unique names move from `toLowerCase()` to
 * `identifierKey` (RFC 8265 width mapping, lowercase, NFC: domain/identifier-key.ts), so rows
 * written before compare like rows written after. Only values that differ are rewritten; ASCII
 * data is untouched.
 *
 * Where the copy is unique (userName, role/group/environment names, codes, aliases, external
 * ids), two rows that were distinct may now map to the same value (`jürgen` in NFC and in NFD).
 * Neither is deleted or renamed: the lowest id (or the row already in the new form) gets the new
 * copy, the others keep their old one, so they stay distinct and can be renamed through the API;
 * a warning names how many. New writes cannot create such pairs.
 */
export function identifierKeysMigration(name = '0006-identifier-keys', only: (source: string) => boolean = () => true): Migration {
  const run: Run = { name, only };
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const column of COPIES) await recompute(db, column, run);
      for (const table of ['user_external_ids', 'group_external_ids'] as const) await recomputeExternalIds(db, table, run);
    },
  };
}

/** A run of the recomputation: the migration it belongs to (for warnings) and the source values it considers. */
interface Run {
  name: string;
  only: (source: string) => boolean;
}

interface Copy {
  table: string;
  source: string;
  target: string;
  /** A unique index covers (tenant_id, target). */
  unique: boolean;
}

/** Listed here, not derived from the registries, so this migration does the same thing forever. */
const COPIES: readonly Copy[] = [
  { table: 'users', source: 'user_name', target: 'user_name_lower', unique: true },
  { table: 'users', source: 'email', target: 'email_lower', unique: false },
  { table: 'roles', source: 'name', target: 'name_lower', unique: true },
  { table: 'groups', source: 'name', target: 'name_lower', unique: true },
  { table: 'environments', source: 'name', target: 'name_lower', unique: true },
  { table: 'organizations', source: 'name', target: 'name_lower', unique: false },
  { table: 'organizations', source: 'code', target: 'code_lower', unique: true },
  { table: 'areas', source: 'name', target: 'name_lower', unique: false },
  { table: 'positions', source: 'name', target: 'name_lower', unique: false },
  { table: 'identity_providers', source: 'name', target: 'name_lower', unique: false },
  { table: 'identity_providers', source: 'alias', target: 'alias_lower', unique: true },
  { table: 'identification_types', source: 'name', target: 'name_lower', unique: false },
  { table: 'identification_types', source: 'code', target: 'code_lower', unique: true },
  { table: 'attribute_definitions', source: 'name', target: 'name_lower', unique: false },
];

const PAGE = 5_000;

interface Change {
  id: string;
  tenantId: string;
  next: string;
}

async function recompute(db: Kysely<unknown>, { table, source, target, unique }: Copy, { name, only }: Run): Promise<void> {
  const changes: Change[] = [];
  for (let after = ''; ; ) {
    const { rows } = await sql<{ id: string; tenant_id: string; source: string | null; target: string | null }>`
      select id, tenant_id, ${sql.ref(source)} as source, ${sql.ref(target)} as target from ${sql.table(table)}
      where id > ${after} order by id limit ${PAGE}`.execute(db);
    for (const row of rows) {
      const next = row.source === null || !only(row.source) ? null : identifierKey(row.source);
      if (next !== null && next !== row.target) changes.push({ id: row.id, tenantId: row.tenant_id, next });
    }
    if (rows.length < PAGE) break;
    after = (rows[rows.length - 1] as { id: string }).id;
  }
  const claimed = new Set<string>();
  let kept = 0;
  for (const change of changes) {
    if (unique) {
      // A changed row's old copy is never in the new form, so only unchanged rows or an earlier
      // change (lower id) can already hold the new value.
      const slot = JSON.stringify([change.tenantId, change.next]);
      const { rows } = await sql`select 1 from ${sql.table(table)} where tenant_id = ${change.tenantId} and ${sql.ref(target)} = ${change.next}`.execute(db);
      if (rows.length > 0 || claimed.has(slot)) {
        kept++;
        continue;
      }
      claimed.add(slot);
    }
    await sql`update ${sql.table(table)} set ${sql.ref(target)} = ${change.next} where id = ${change.id}`.execute(db);
  }
  if (kept > 0) warn(name, `${kept} row(s) of ${table} keep their old ${target}: their ${source} now equals another row's (rename one of each pair).`);
}

async function recomputeExternalIds(db: Kysely<unknown>, table: 'user_external_ids' | 'group_external_ids', { name, only }: Run): Promise<void> {
  const changes: { tenantId: string; origin: string; key: string; nextOrigin: string; nextKey: string }[] = [];
  for (let after: [string, string, string] | undefined; ; ) {
    const { rows } = await sql<{ tenant_id: string; origin: string; key: string }>`
      select tenant_id, origin, ${sql.ref('key')} as key from ${sql.table(table)}
      ${after ? sql`where (tenant_id, origin, ${sql.ref('key')}) > (${after[0]}, ${after[1]}, ${after[2]})` : sql``}
      order by tenant_id, origin, ${sql.ref('key')} limit ${PAGE}`.execute(db);
    for (const row of rows) {
      if (!only(row.origin) && !only(row.key)) continue;
      const nextOrigin = identifierKey(row.origin);
      const nextKey = identifierKey(row.key);
      if (nextOrigin !== row.origin || nextKey !== row.key) changes.push({ tenantId: row.tenant_id, origin: row.origin, key: row.key, nextOrigin, nextKey });
    }
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1] as { tenant_id: string; origin: string; key: string };
    after = [last.tenant_id, last.origin, last.key];
  }
  let kept = 0;
  for (const c of changes) {
    const { rows } = await sql`select 1 from ${sql.table(table)} where tenant_id = ${c.tenantId} and origin = ${c.nextOrigin} and ${sql.ref('key')} = ${c.nextKey}`.execute(db);
    if (rows.length > 0) {
      kept++;
      continue;
    }
    await sql`update ${sql.table(table)} set origin = ${c.nextOrigin}, ${sql.ref('key')} = ${c.nextKey}
      where tenant_id = ${c.tenantId} and origin = ${c.origin} and ${sql.ref('key')} = ${c.key}`.execute(db);
  }
  if (kept > 0) warn(name, `${kept} external id(s) in ${table} keep their old form: they now equal another external id of their tenant.`);
}

function warn(name: string, message: string): void {
  console.warn(`roster migrate ${name}: ${message}`);
}

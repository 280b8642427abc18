import { sql, type Kysely, type Migration } from 'kysely';
import { parseJson, toJson } from '../json-columns.js';
import { normaliseDateTime } from '../../filter/literal-validators.js';

/**
 * Date-time values of `date` attributes are now stored in UTC `toISOString()` form, so that text
 * comparison in filters orders instants (`2020-01-02T01:00:00+05:00` → `2020-01-01T20:00:00.000Z`).
 * This rewrites the values stored before, single and multi-valued; date-only values and values
 * that are not valid dates (stored before the definition existed) are left as they are. Neither
 * the version nor `updated_at` moves and no event is written: the value means the same instant.
 */
export function dateAttributeValuesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const { rows } = await sql<{ tenant_id: string; name: string; multi_valued: unknown }>`
        select tenant_id, name, multi_valued from attribute_definitions where type = 'date'`.execute(db);
      const byTenant = new Map<string, { name: string; multiValued: boolean }[]>();
      for (const row of rows) {
        const list = byTenant.get(row.tenant_id) ?? [];
        // SQLite stores booleans as 0/1.
        list.push({ name: row.name, multiValued: row.multi_valued === true || row.multi_valued === 1 });
        byTenant.set(row.tenant_id, list);
      }
      for (const [tenantId, definitions] of byTenant) await rewriteTenant(db, tenantId, definitions);
    },
  };
}

const PAGE = 5_000;

/** Copied here, not imported from the attribute rules, so this migration does the same thing forever. */
const FULL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

function normalised(value: unknown): unknown {
  if (typeof value !== 'string' || !FULL_DATE_TIME.test(value)) return value;
  return normaliseDateTime(value) ?? value;
}

async function rewriteTenant(db: Kysely<unknown>, tenantId: string, definitions: readonly { name: string; multiValued: boolean }[]): Promise<void> {
  for (let after = ''; ; ) {
    const { rows } = await sql<{ id: string; attributes: unknown }>`
      select id, attributes from users where tenant_id = ${tenantId} and id > ${after} order by id limit ${PAGE}`.execute(db);
    for (const row of rows) {
      const attributes = parseJson<unknown>(row.attributes, {});
      if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) continue;
      const record = attributes as Record<string, unknown>;
      let changed = false;
      for (const { name, multiValued } of definitions) {
        if (!Object.hasOwn(record, name)) continue;
        const value = record[name];
        const next = multiValued && Array.isArray(value) ? value.map(normalised) : multiValued ? value : normalised(value);
        if (JSON.stringify(next) === JSON.stringify(value)) continue;
        record[name] = next;
        changed = true;
      }
      if (changed) await sql`update users set attributes = ${toJson(record)} where id = ${row.id}`.execute(db);
    }
    if (rows.length < PAGE) break;
    after = (rows[rows.length - 1] as { id: string }).id;
  }
}

import { splitConfig } from './config-schema.js';
import { configSchemaOf, type DirectoryDefinition, type DirectoryRecord } from './directory.js';

/**
 * What the API shows and what events record: config secrets (declared by the field's config
 * schema; undeclared keys count as secrets) are reduced to their names. Shared by the presenters
 * (what the API shows) and the directory commands (what events record), so a secret can never
 * appear in one and not the other.
 */
export function publicView(def: DirectoryDefinition, record: DirectoryRecord): Record<string, unknown> {
  const view: Record<string, unknown> = { id: record.id };
  for (const [name, f] of Object.entries(def.fields)) {
    view[name] = record[name];
    if (f.type === 'configObject' && f.secretsField) {
      const { shown, secrets } = splitConfig(configSchemaOf(f, record), (record[name] ?? {}) as Record<string, unknown>);
      view[name] = shown;
      view[f.secretsField] = secrets;
    }
  }
  return { ...view, createdAt: record.createdAt, updatedAt: record.updatedAt, version: record.version };
}

import { isSecretConfigKey, type DirectoryDefinition, type DirectoryRecord } from './directory.js';

/**
 * What the API shows and what events record: config secrets are reduced to their names. Shared by the presenters (what the API shows) and the directory commands (what events record),
 * so a secret can never appear in one and not the other.
 */
export function publicView(def: DirectoryDefinition, record: DirectoryRecord): Record<string, unknown> {
  const view: Record<string, unknown> = { id: record.id };
  for (const [name, f] of Object.entries(def.fields)) {
    view[name] = record[name];
    if (f.type === 'configObject' && f.secretsField) {
      const config = (record[name] ?? {}) as Record<string, unknown>;
      view[name] = Object.fromEntries(Object.entries(config).filter(([k]) => !isSecretConfigKey(k)));
      view[f.secretsField] = Object.keys(config).filter(isSecretConfigKey).sort();
    }
  }
  return { ...view, createdAt: record.createdAt, updatedAt: record.updatedAt, version: record.version };
}

import { stableStringify } from '../lib/stable-json.js';

/** A field-level change: what the field was and what it became (null when absent). */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

export interface DomainEvent {
  id: string;
  tenantId: string;
  type: string;
  actorType: string;
  actorId: string | null;
  resourceType: string;
  resourceId: string;
  occurredAt: string;
  changes: FieldChanges;
}

/** Compares two snapshots field by field; only fields whose JSON value differs are kept. */
export function diffFields(before: Record<string, unknown> | null, after: Record<string, unknown> | null, fields: readonly string[]): FieldChanges {
  const changes: FieldChanges = {};
  for (const field of fields) {
    const from = before?.[field] ?? null;
    const to = after?.[field] ?? null;
    if (stableStringify(from) !== stableStringify(to)) changes[field] = { from, to };
  }
  return changes;
}

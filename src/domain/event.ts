import { stableStringify } from '../lib/stable-json.js';

/** A field-level change: what the field was and what it became (null when absent). */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/**
 * Where a change came from, beyond who made it: the HTTP request (its X-Request-Id), and later
 * the sync run, workflow or job that made it. Copied from the Principal onto every event.
 */
export interface EventContext {
  requestId?: string;
  syncRunId?: string;
  workflowId?: string;
  jobId?: string;
}

export interface DomainEvent {
  /** UUIDv7, unique across tenants. */
  id: string;
  tenantId: string;
  /**
   * Where the event stands in its tenant's feed: strictly increasing in COMMIT order, so a reader
   * that has seen every event up to position P never later finds a new one at or below P.
   * Assigned by the event repository at commit (0 until then).
   */
  position: number;
  /** A type of EVENT_CATALOGUE when written; stored events keep the type they were written with. */
  type: string;
  actorType: string;
  actorId: string | null;
  resourceType: string;
  resourceId: string;
  occurredAt: string;
  changes: FieldChanges;
  context: EventContext;
}

/** Compares two snapshots field by field; only fields whose JSON value differs are kept. */
export function diffFields(before: Record<string, unknown> | null, after: Record<string, unknown> | null, fields: readonly string[]): FieldChanges {
  const changes: FieldChanges = {};
  for (const field of fields) {
    const from = before?.[field] ?? null;
    const to = after?.[field] ?? null;
    if (from === to) continue;
    // Text, numbers and booleans differ when they are not ===; only lists and objects need JSON.
    if (typeof from !== 'object' || typeof to !== 'object' || from === null || to === null || stableStringify(from) !== stableStringify(to)) changes[field] = { from, to };
  }
  return changes;
}

import type { Static } from '@sinclair/typebox';
import type { SyncItem, SyncRun } from '../../domain/sync-run.js';
import type { SyncItemSchema, SyncRunSchema } from '../schemas/sync-run-schemas.js';

export const presentSyncRun = (run: SyncRun): Static<typeof SyncRunSchema> => ({
  id: run.id,
  origin: run.origin,
  status: run.status,
  options: run.options,
  received: run.received,
  counts: run.counts,
  applied: run.applied,
  heldReasons: run.heldReasons,
  jobId: run.jobId,
  createdBy: { actorType: run.actorType, actorId: run.actorId },
  createdAt: run.createdAt,
  updatedAt: run.updatedAt,
  plannedAt: run.plannedAt,
  appliedAt: run.appliedAt,
});

export const presentSyncItem = (item: SyncItem): Static<typeof SyncItemSchema> => ({
  seq: item.seq,
  key: item.key,
  userId: item.userId,
  action: item.action,
  changes: item.changes,
  warnings: item.warnings,
  error: item.error,
  outcome: item.outcome,
  outcomeError: item.outcomeError,
});

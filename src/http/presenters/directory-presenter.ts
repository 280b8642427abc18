import type { Static } from '@sinclair/typebox';
import { publicView } from '../../domain/directory-view.js';
import type { DirectoryDefinition, DirectoryRecord } from '../../domain/directory.js';
import type { DirectoryRecordFrame } from '../schemas/directory-schemas.js';

/** What every directory record shows: its frame plus the kind's own fields (see directorySchemas). */
export type DirectoryRecordResource = Static<typeof DirectoryRecordFrame> & Record<string, unknown>;

/** A directory record as the API shows it: the kind's public view (write-only secrets by name only). */
export function presentRecord(def: DirectoryDefinition, record: DirectoryRecord): DirectoryRecordResource {
  return publicView(def, record) as DirectoryRecordResource;
}

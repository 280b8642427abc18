import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { secretsFields, type DirectoryDefinition, type DirectoryField } from '../../domain/directory.js';
import { CURSOR_DESCRIPTION, FreeJsonObject, MAX_CURSOR_LENGTH, Nullable, TOP_DESCRIPTION, Timestamp, Uuid } from './common-schemas.js';

function fieldSchema(f: DirectoryField): TSchema {
  const doc = f.description ? { description: f.description } : {};
  switch (f.type) {
    case 'string':
      return Type.String({ minLength: 1, maxLength: f.maxLength ?? 200, ...(f.pattern ? { pattern: f.pattern } : {}), ...doc });
    case 'integer':
      return Type.Integer({ minimum: f.minimum, maximum: f.maximum, ...doc });
    case 'boolean':
      return Type.Boolean(doc);
    case 'stringArray':
      return Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: f.maxLength ?? 200, ...doc });
    case 'enum':
      return Type.Union((f.enumValues ?? []).map((v) => Type.Literal(v)), doc);
    case 'reference':
      return Type.String({ format: 'uuid', ...doc });
    case 'configObject':
      return FreeJsonObject({ maxProperties: 50, description: f.description });
    case 'externalIds':
      return Type.Array(
        Type.Object({ origin: Type.String({ minLength: 1, maxLength: 128 }), key: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
        { maxItems: 50, ...doc },
      );
  }
}

/** The request and response schemas of one directory kind, derived from its definition. */
export interface DirectorySchemas {
  create: TObject;
  replace: TObject;
  patch: TObject;
  response: TObject;
}

export function directorySchemas(def: DirectoryDefinition): DirectorySchemas {
  const entries = Object.entries(def.fields);
  const writable = (nullableRequired: boolean) =>
    Object.fromEntries(entries.map(([name, f]) => [name, f.required && !nullableRequired ? fieldSchema(f) : Type.Optional(f.required ? fieldSchema(f) : Nullable(fieldSchema(f)))]));
  const create = Type.Object(
    Object.fromEntries(entries.map(([name, f]) => [name, f.required ? fieldSchema(f) : Type.Optional(Nullable(fieldSchema(f)))])),
    { additionalProperties: false },
  );
  const readOnly = {
    id: Type.Optional(Uuid),
    createdAt: Type.Optional(Type.String()),
    updatedAt: Type.Optional(Type.String()),
    version: Type.Optional(Type.Integer()),
    ...Object.fromEntries(secretsFields(def).map((name) => [name, Type.Optional(Type.Array(Type.String()))])),
  };
  const replace = Type.Object({ ...create.properties, ...readOnly }, { additionalProperties: false, description: 'The whole record; read-only fields returned by GET may be sent back and are ignored.' });
  const patch = Type.Object(writable(true), { additionalProperties: false, description: 'JSON Merge Patch (RFC 7396): only the fields sent change; null clears.' });
  const response = Type.Object(
    {
      id: Uuid,
      ...Object.fromEntries(entries.map(([name, f]) => [name, f.required || f.default !== undefined ? fieldSchema(f) : Nullable(fieldSchema(f))])),
      ...Object.fromEntries(secretsFields(def).map((name) => [name, Type.Array(Type.String(), { description: 'The write-only config fields that are set (a secret map entry as `<field>.<key>`), and any stored field the type does not declare: never returned.' })])),
      createdAt: Timestamp,
      updatedAt: Timestamp,
      version: Type.Integer({ description: 'Increments on every change; the ETag is W/"<version>".' }),
    },
    { title: def.title },
  );
  return { create, replace, patch, response };
}

/** The fields every directory record has, whatever its kind. */
export const DirectoryRecordFrame = Type.Object({ id: Uuid, createdAt: Timestamp, updatedAt: Timestamp, version: Type.Integer() });

export const DirectoryListQuery = Type.Object(
  {
    $filter: Type.Optional(Type.String({ maxLength: 4096, description: "OData filter, e.g. `startswith(name,'Sales')`." })),
    $orderby: Type.Optional(Type.String({ maxLength: 512 })),
    $select: Type.Optional(Type.String({ maxLength: 1024, description: 'Comma-separated fields to return (id is always returned).' })),
    $top: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: TOP_DESCRIPTION })),
    $skip: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    $count: Type.Optional(Type.Boolean()),
    cursor: Type.Optional(Type.String({ maxLength: MAX_CURSOR_LENGTH, description: CURSOR_DESCRIPTION })),
  },
  { additionalProperties: false },
);

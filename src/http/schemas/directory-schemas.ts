import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { secretsFields, type DirectoryDefinition, type DirectoryField, type DirectoryKind } from '../../domain/directory.js';
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

const pascal = (text: string) => text.replace(/(^|[_-])([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
/** OpenAPI names of a kind, for schemas and operationIds: `Group`/`Groups`, `IdentityProvider`/`IdentityProviders`. */
export const directoryNames = (def: DirectoryDefinition) => ({ one: pascal(def.kind), many: pascal(def.path) });

/**
 * A record of each kind as a client would create it: the examples /docs pre-fills, which must
 * validate and succeed on an empty tenant (test/api/openapi.test.ts POSTs every one).
 */
export const DIRECTORY_EXAMPLES: Record<DirectoryKind, Record<string, unknown>> = {
  role: { name: 'Billing admin', description: 'Manages invoices and payment methods.', weight: 10, permissions: ['billing:read', 'billing:write'] },
  group: { name: 'Engineering', description: 'Everyone who builds the product.', externalIds: [{ origin: 'workday', key: 'ENG' }] },
  organization: { name: 'Acme Europe', code: 'ACME-EU' },
  environment: { name: 'Production', description: 'Live customer data.' },
  position: { name: 'Software engineer' },
  area: { name: 'Research and development' },
  identity_provider: {
    name: 'Company SSO',
    alias: 'sso',
    type: 'oidc',
    enabled: true,
    config: { issuer: 'https://login.example.com', clientId: 'roster', clientSecret: 'change-me', scopes: ['openid', 'profile', 'email'] },
  },
  identification_type: { name: 'Passport', code: 'passport' },
  attribute_definition: { name: 'shirtSize', type: 'enum', enumValues: ['S', 'M', 'L', 'XL'], required: false, multiValued: false, indexed: false },
};

/** A merge patch of the example: its optional fields, or a new name when it has none. */
function patchExample(def: DirectoryDefinition): Record<string, unknown> {
  const example = DIRECTORY_EXAMPLES[def.kind];
  const optional = Object.entries(example).filter(([name]) => !def.fields[name]?.required && def.fields[name]?.type !== 'configObject');
  return optional.length > 0 ? Object.fromEntries(optional) : { name: `${String(example.name)} (renamed)` };
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
  const clientEntries = entries.filter(([, f]) => !f.serverOwned);
  const writable = (nullableRequired: boolean) =>
    Object.fromEntries(clientEntries.map(([name, f]) => [name, f.required && !nullableRequired ? fieldSchema(f) : Type.Optional(f.required ? fieldSchema(f) : Nullable(fieldSchema(f)))]));
  const named = directoryNames(def).one;
  const create = Type.Object(
    Object.fromEntries(clientEntries.map(([name, f]) => [name, f.required ? fieldSchema(f) : Type.Optional(Nullable(fieldSchema(f)))])),
    { additionalProperties: false, 'x-component': `${named}Create`, examples: [DIRECTORY_EXAMPLES[def.kind]] },
  );
  const readOnly = {
    id: Type.Optional(Uuid),
    createdAt: Type.Optional(Type.String()),
    updatedAt: Type.Optional(Type.String()),
    version: Type.Optional(Type.Integer()),
    ...Object.fromEntries(secretsFields(def).map((name) => [name, Type.Optional(Type.Array(Type.String()))])),
    ...Object.fromEntries(entries.filter(([, f]) => f.serverOwned).map(([name, f]) => [name, Type.Optional(Nullable(fieldSchema(f)))])),
  };
  const replace = Type.Object(
    { ...create.properties, ...readOnly },
    {
      additionalProperties: false, description: 'The whole record; read-only fields returned by GET may be sent back and are ignored.',
      'x-component': `${named}Replace`, examples: [DIRECTORY_EXAMPLES[def.kind]],
    },
  );
  const patch = Type.Object(
    writable(true),
    { additionalProperties: false, description: 'JSON Merge Patch (RFC 7396): only the fields sent change; null clears.', 'x-component': `${named}Patch`, examples: [patchExample(def)] },
  );
  const response = Type.Object(
    {
      id: Uuid,
      ...Object.fromEntries(entries.map(([name, f]) => [name, f.required || f.default !== undefined ? fieldSchema(f) : Nullable(fieldSchema(f))])),
      ...Object.fromEntries(secretsFields(def).map((name) => [name, Type.Array(Type.String(), { description: 'The write-only config fields that are set (a secret map entry as `<field>.<key>`), and any stored field the type does not declare: never returned.' })])),
      createdAt: Timestamp,
      updatedAt: Timestamp,
      version: Type.Integer({ description: 'Increments on every change; the ETag is W/"<version>".' }),
    },
    { title: def.title, 'x-component': named },
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

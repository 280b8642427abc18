import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isEmailAddress } from '../domain/email-address.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const shared: Options = { allErrors: true, strict: false, useDefaults: true, removeAdditional: false, allowUnionTypes: true };

/**
 * Two validators: request bodies are JSON, so their types are checked strictly (a number sent
 * for a string is an error, never silently converted); query strings and path parameters are
 * text by nature, so they are coerced to the declared type. Unknown fields are errors in both.
 */
const bodyAjv = withFormats(new Ajv({ ...shared, coerceTypes: false }));
const textAjv = withFormats(new Ajv({ ...shared, coerceTypes: true }));

/** ajv-formats, plus `idn-email` (JSON Schema: an RFC 6531 address, internationalised ones included). */
function withFormats(ajv: Ajv): Ajv {
  addFormats(ajv);
  return ajv.addFormat('idn-email', { type: 'string', validate: isEmailAddress });
}

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object);
};

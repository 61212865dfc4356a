// The wire shapes of HIMDS, as JSON Schema (typebox): what fastify validates each query against and
// serializes each answer with. Unknown query parameters (xms_cc, format, ...) are let through, as
// newer clients add some; every value is a string, as in IMDS.
import { Type } from 'typebox';

const Text = Type.Optional(Type.String({ maxLength: 2048 }));

export const MetadataQuery = Type.Object({
  'api-version': Text,
  format: Text,
});

export const TokenQuery = Type.Object({
  'api-version': Text,
  resource: Text,
  bypass_cache: Text,
  // User-assigned selectors (identity-selector.ts).
  client_id: Text,
  object_id: Text,
  msi_res_id: Text,
  mi_res_id: Text,
});

/** Everything a client may need, all strings (../shared/reference/himds-identity.md section 1.4). */
export const TokenAnswer = Type.Object({
  access_token: Type.String(),
  client_id: Type.Optional(Type.String()),
  object_id: Type.Optional(Type.String()),
  msi_res_id: Type.Optional(Type.String()),
  mi_res_id: Type.Optional(Type.String()),
  expires_in: Type.String(),
  expires_on: Type.String(),
  ext_expires_in: Type.String(),
  not_before: Type.String(),
  resource: Type.String(),
  token_type: Type.String(),
});

export const ErrorAnswer = Type.Object({
  error: Type.String(),
  error_description: Type.String(),
});

export const errorResponses = { '4xx': ErrorAnswer, '5xx': ErrorAnswer };

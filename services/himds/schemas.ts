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

// The instance metadata document (instance-metadata.ts builds it).

const S = Type.String();

export const ComputeSchema = Type.Object({
  azEnvironment: S,
  customData: S,
  isHostCompatibilityLayerVm: S,
  location: S,
  name: S,
  offer: S,
  osType: S,
  placementGroupId: S,
  plan: Type.Object({ name: S, product: S, publisher: S }),
  platformFaultDomain: S,
  platformUpdateDomain: S,
  provider: S,
  publicKeys: Type.Array(Type.Object({ keyData: S, path: S })),
  publisher: S,
  resourceGroupName: S,
  resourceId: S,
  securityProfile: Type.Object({ secureBootEnabled: S, virtualTpmEnabled: S }),
  sku: S,
  storageProfile: Type.Object({}),
  subscriptionId: S,
  tags: S,
  tagsList: Type.Array(Type.Object({ name: S, value: S })),
  version: S,
  vmId: S,
  vmScaleSetName: S,
  vmSize: S,
  zone: S,
});

export const InstanceSchema = Type.Object({
  compute: ComputeSchema,
  network: Type.Object({}),
});

// agentconfig.json: the connection state that `connect` writes, heartbeats update and `show` reads.
// Absent until the machine is connected. Written atomically; read leniently (unknown keys are kept).
import { Type, type Static } from 'typebox';
import { readSchemaFile, writeJsonFile } from './json-file.ts';

const optional = (description: string) => Type.Optional(Type.String({ description }));

export const AgentStateSchema = Type.Object(
  {
    resourceName: Type.String(),
    resourceGroup: Type.String(),
    subscriptionId: Type.String(),
    tenantId: Type.String(),
    location: Type.String(),
    /** A built-in cloud name, or the path of a cloud profile file (the local cloud). */
    cloud: Type.String(),
    resourceId: Type.String(),
    vmId: optional('the machine id the cloud gave at registration'),
    correlationId: optional('telemetry correlation id given to connect'),
    connectedAt: optional('ISO-8601 time of connect'),
    /** Last status the cloud reported: Connected, Disconnected or Expired. */
    status: Type.Optional(
      Type.Union([Type.Literal('Connected'), Type.Literal('Disconnected'), Type.Literal('Expired')]),
    ),
    lastHeartbeat: optional('ISO-8601 time of the last heartbeat the cloud accepted'),
    errorCode: optional('stable code of the last failure talking to the cloud'),
    errorDetails: optional('what went wrong, and what to do'),
    errorTimestamp: optional('ISO-8601 time of the last failure'),
    certificateThumbprint: optional('SHA-1 thumbprint of the machine identity certificate'),
    certificateNotAfter: optional('ISO-8601 expiry of the machine identity certificate'),
    gatewayUrl: optional('the Arc gateway this machine is associated with'),
  },
  { additionalProperties: true },
);

export type AgentState = Static<typeof AgentStateSchema>;

/** The connection state, or undefined when the machine is not connected. */
export const readAgentState = (path: string): Promise<AgentState | undefined> =>
  readSchemaFile(path, AgentStateSchema);

export const writeAgentState = (path: string, state: AgentState): Promise<void> => writeJsonFile(path, state);

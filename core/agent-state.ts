// agentconfig.json: the connection state that `connect` writes, heartbeats update and `show` reads.
// Absent until the machine is connected. Written atomically; read leniently (unknown keys are kept).
import type { Static } from 'typebox';
import { readSchemaFile, writeJsonFile } from './json-file.ts';
import type { AgentStateSchema } from './schemas.ts';

export type AgentState = Static<typeof AgentStateSchema>;

/** The connection state, or undefined when the machine is not connected. */
export const readAgentState = (path: string): Promise<AgentState | undefined> =>
  readSchemaFile(path, 'AgentStateSchema');

export const writeAgentState = (path: string, state: AgentState): Promise<void> => writeJsonFile(path, state);

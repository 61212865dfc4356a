// Whether a value fits one of the agent's typebox schemas (schemas.ts), and if it does not, its first
// problem as typebox words it. The checks are typebox's own compiled code, generated ahead of time
// into schema-checks.generated.ts, so a process that reads good files never loads typebox (the Arc
// Proxy is ~1.5 MB smaller for it); typebox's Value engine and the schemas are imported only when a
// check fails.
import type { Static } from 'typebox';
import { checks } from './schema-checks.generated.ts';
import type * as Schemas from './schemas.ts';

export type SchemaName = keyof typeof Schemas;
/** The type a schema describes: `SchemaType<'AgentStateSchema'>` is an AgentState. */
export type SchemaType<N extends SchemaName> = Static<(typeof Schemas)[N]>;

export interface SchemaProblem {
  /** JSON pointer to the value at fault; empty for the whole document. */
  instancePath: string;
  message: string;
}

export const fitsSchema = <N extends SchemaName>(name: N, value: unknown): value is SchemaType<N> =>
  checks[name](value);

/**
 * The first of typebox's Value.Errors for `value`, or undefined when it fits. The compiled check
 * answers first, as it does in typebox's own Validator.Errors.
 */
export async function schemaProblem(name: SchemaName, value: unknown): Promise<SchemaProblem | undefined> {
  if (checks[name](value)) return undefined;
  const [{ Value }, schemas] = await Promise.all([import('typebox/value'), import('./schemas.ts')]);
  return Value.Errors(schemas[name], value)[0];
}

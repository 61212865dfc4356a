// The agent's JSON files (localconfig.json, agentconfig.json, cloudconfig.json): read with one error
// for every way a file can be wrong (CONFIG_UNREADABLE, naming the file), written atomically.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.ts';
import { AgentError } from './errors.ts';
import { schemaProblem, type SchemaName, type SchemaType } from './schema-check.ts';

/** The parsed file, or undefined when it does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AgentError('CONFIG_UNREADABLE', `${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AgentError('CONFIG_UNREADABLE', `${path} is not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/** The file checked against `schema` (its first problem named), or undefined when it does not exist. */
export async function readSchemaFile<N extends SchemaName>(
  path: string,
  schema: N,
): Promise<SchemaType<N> | undefined> {
  const raw = await readJsonFile(path);
  if (raw === undefined) return undefined;
  const problem = await schemaProblem(schema, raw);
  if (problem)
    throw new AgentError('CONFIG_UNREADABLE', `${path}: ${problem.instancePath || '/'} ${problem.message}`);
  return raw as SchemaType<N>;
}

/** Pretty-printed, atomically (a reader sees the old file or the new one). */
export async function writeJsonFile(path: string, value: unknown, mode = 0o644): Promise<void> {
  try {
    await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
  } catch (err) {
    throw new AgentError('CONFIG_WRITE_FAILED', `${path}: ${(err as Error).message}`, { cause: err });
  }
}

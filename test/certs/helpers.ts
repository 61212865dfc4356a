// Shared by the certs tests: a temporary folder and openssl as an independent judge.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const tempDir = (prefix = 'azcm-certs-'): string => mkdtempSync(join(tmpdir(), prefix));

/** Runs openssl with files written to a temporary folder; returns stdout, or throws with stderr. */
export function openssl(args: string[], files: Record<string, string> = {}): string {
  const dir = tempDir('azcm-openssl-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

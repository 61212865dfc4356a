// Bundles the CLI and every service into one ESM file, dist/azcmagent.js, and the local cloud into
// dist/arc-local-cloud.js (run by `prepare`, so `npm ci` leaves working bins). CJS dependencies
// need `require`, hence the banner.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const banner = {
  js: [
    '#!/usr/bin/env node',
    "import { createRequire as __azcmCreateRequire } from 'node:module';",
    'const require = __azcmCreateRequire(import.meta.url);',
  ].join('\n'),
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  banner,
};

const out = 'dist/azcmagent.js';
await build({
  ...common,
  entryPoints: ['cli/main.ts'],
  outfile: out,
  // Comments out: V8 keeps the whole source in memory, as two-byte text if any character is not ASCII.
  minifyWhitespace: true,
  legalComments: 'external',
});
await chmod(out, 0o755);

// The local cloud. better-sqlite3 stays outside the bundle: it loads a native addon from its own
// package folder, so it is resolved from node_modules at run time.
const cloudOut = 'dist/arc-local-cloud.js';
await build({ ...common, entryPoints: ['cloud/main.ts'], outfile: cloudOut, external: ['better-sqlite3'] });
await chmod(cloudOut, 0o755);

// Bundles the CLI and every service into one ESM file, dist/azcmagent.js (run by `prepare`,
// so `npm ci` leaves a working bin). CJS dependencies need `require`, hence the banner.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const out = 'dist/azcmagent.js';
await build({
  entryPoints: ['cli/main.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __azcmCreateRequire } from 'node:module';",
      'const require = __azcmCreateRequire(import.meta.url);',
    ].join('\n'),
  },
});
await chmod(out, 0o755);

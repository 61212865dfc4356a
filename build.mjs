// Bundles the CLI and every service into dist/azcmagent.js and the chunks beside it (ESM), and the
// local cloud into dist/arc-local-cloud.js (run by `prepare`, so `npm ci` leaves working bins). CJS
// dependencies need `require`, hence the banner.
import { build } from 'esbuild';
import { chmod, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const requireBanner = [
  "import { createRequire as __azcmCreateRequire } from 'node:module';",
  'const require = __azcmCreateRequire(import.meta.url);',
];
const banner = { js: ['#!/usr/bin/env node', ...requireBanner].join('\n') };

// azcmagent starts node with a young generation of 2 MiB semi-spaces, not up to 16: the services
// allocate short-lived objects per request, and V8 keeps a grown young generation for good, which
// left the Arc Proxy at ~100 MiB after load instead of ~70; and with gc() exposed, which the Arc
// Proxy calls once traffic is over (proxy/service.ts). A flag only works at launch, so the first two
// lines are both sh and JavaScript: sh runs `:` then execs node with the flags on this file; node
// skips the #! line and sees a string and a comment. `node dist/azcmagent.js` works too.
const agentBanner = {
  js: [
    '#!/bin/sh',
    '":" //# ; exec node --max-semi-space-size=2 --expose-gc "$0" "$@"',
    ...requireBanner,
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

// pino loads, when it is first imported, two things that only its transports use, and azcmagent has no
// transport (core/log-file.ts rotates files on pino's own SonicBoom): thread-stream, the worker thread
// a transport runs in, and node:worker_threads, of which pino asks only whether it runs on the main
// thread. Together they cost the Arc Proxy ~0.3 MB of RSS at idle. The bundle never runs in a worker
// thread, so that answer is fixed; a transport, if one were ever asked for, throws instead of starting.
const pinoWithoutTransports = {
  name: 'pino-without-transports',
  setup(build) {
    const stubs = {
      'thread-stream':
        "module.exports = class ThreadStream { constructor() { throw new Error('pino transports are left out of the azcmagent bundle (build.mjs); log to a destination stream'); } };",
      worker_threads: 'module.exports = { isMainThread: true };',
    };
    build.onResolve({ filter: /^(thread-stream|worker_threads)$/ }, ({ path, importer }) =>
      /[/\\]node_modules[/\\]pino[/\\]/.test(importer) ? { path, namespace: 'pino-stub' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'pino-stub' }, ({ path }) => ({
      contents: stubs[path],
      loader: 'js',
    }));
  },
};

// Split at every dynamic import(): code a process never imports is never read, so `run --services
// arcproxy` does not hold HIMDS, fastify, undici or @peculiar/x509 (idle RSS 60.7 -> 53 MiB).
// Chunks sit beside the entry, so that paths relative to import.meta.url (../LICENSE) hold in any of
// them; old ones are removed first, as their names change with their content.
const out = 'dist/azcmagent.js';
for (const name of await readdir('dist').catch(() => []))
  if (/^chunk-|-[A-Z0-9]{8}\.js(\.map|\.LEGAL\.txt)?$/.test(name)) await rm(join('dist', name));
await build({
  ...common,
  entryPoints: { azcmagent: 'cli/main.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: '[name]-[hash]',
  // The launch lines in every chunk too: harmless there (a #! line and a string), never run as sh.
  banner: agentBanner,
  // Comments out: V8 keeps the whole source in memory, as two-byte text if any character is not ASCII.
  minifyWhitespace: true,
  legalComments: 'external',
  plugins: [pinoWithoutTransports],
});
await chmod(out, 0o755);

// The local cloud. better-sqlite3 stays outside the bundle: it loads a native addon from its own
// package folder, so it is resolved from node_modules at run time.
const cloudOut = 'dist/arc-local-cloud.js';
await build({ ...common, entryPoints: ['cloud/main.ts'], outfile: cloudOut, external: ['better-sqlite3'] });
await chmod(cloudOut, 0o755);

// `azcmagent logs [-o FILE] [-f]`: a ZIP for support. It holds the logs under <home>/log (the
// current files; rotated ones too with --full), the three configuration files with secrets removed,
// the Arc Proxy's meter, what `show` knows, versions and the OS. Files are picked by name, never by
// walking the home folder, so <home>/certs and <home>/tokens cannot end up in it; every text passes
// through redactText / redactDocument on the way in.
import type { Command } from 'commander';
import { constants } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  AgentError,
  VERSION,
  createZipFile,
  openCommandLog,
  redactDocument,
  redactText,
  resolveHome,
  type HomeLayout,
  type Logger,
} from '../core/index.ts';
import { adminSocket, meterFile, readMeterFile } from '../proxy/index.ts';
import { fail, printJson, type GlobalOptions } from './output.ts';
import { gatherShow } from './show.ts';

interface LogsOptions extends GlobalOptions {
  output?: string;
  full?: boolean;
  verbose?: boolean;
}

interface Entry {
  name: string;
  data: string;
  mtime?: Date;
}

/** arcproxy.1.log and the like: what rotation left behind, collected with --full only. */
const ROTATED = /\.\d+\.log$/;

/** azcmagent-20261127T101500Z-myhost.zip, as the real agent names it (with a UTC time). */
export function defaultBundleName(now: Date, hostname: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `azcmagent-${stamp}-${hostname.replace(/[^A-Za-z0-9.-]/g, '_') || 'localhost'}.zip`;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Regular files directly in <home>/log, one at a time (a --full bundle can hold hundreds of MB).
 * Symbolic links are skipped, and files are opened with O_NOFOLLOW, so a link planted in the log
 * folder cannot pull in a key from elsewhere. What is left out goes to `skipped`, with why.
 */
async function* logEntries(
  dir: string,
  full: boolean,
  skipped: string[],
  log: Logger,
): AsyncGenerator<Entry> {
  const dirents = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const d of dirents.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!d.isFile()) {
      skipped.push(`log/${d.name} (not a regular file)`);
      continue;
    }
    if (!full && ROTATED.test(d.name)) {
      skipped.push(`log/${d.name} (rotated; use --full)`);
      continue;
    }
    let entry: Entry;
    try {
      const fh = await open(join(dir, d.name), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const stat = await fh.stat();
        entry = { name: `logs/${d.name}`, data: redactText(await fh.readFile('utf8')), mtime: stat.mtime };
      } finally {
        await fh.close();
      }
    } catch (err) {
      skipped.push(`log/${d.name} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      continue;
    }
    log.debug({ file: d.name }, 'logs: collected');
    yield entry;
  }
}

/** A configuration file with secret-named fields REDACTED and credentials removed from every value. */
async function configEntry(path: string, name: string): Promise<Entry | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return {
      name: `config/${name}.error.txt`,
      data: `${(err as NodeJS.ErrnoException).code ?? 'unreadable'}\n`,
    };
  }
  try {
    return { name: `config/${name}`, data: json(redactDocument(JSON.parse(text))) };
  } catch {
    // Not JSON: kept as text, scrubbed the same way a log is.
    return { name: `config/${name}`, data: redactText(text) };
  }
}

/** GET /stats from the running Arc Proxy's socket; undefined when it is not running. */
function askProxy(socketPath: string): Promise<string | undefined> {
  return new Promise((resolveAnswer) => {
    const req = http.get({ socketPath, path: '/stats', timeout: 3_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolveAnswer(res.statusCode === 200 ? text : undefined));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', () => resolveAnswer(undefined));
  });
}

async function meterEntry(home: HomeLayout): Promise<Entry> {
  const live = await askProxy(adminSocket(home));
  if (live !== undefined)
    return {
      name: 'meter.json',
      data: json({ source: 'running Arc Proxy', snapshot: redactDocument(JSON.parse(live)) }),
    };
  const saved = await readMeterFile(meterFile(home)).catch((err: Error) => err);
  if (saved instanceof Error)
    return { name: 'meter.json', data: json({ source: 'none', error: saved.message }) };
  return {
    name: 'meter.json',
    data: json(saved ? { source: 'saved totals', snapshot: redactDocument(saved) } : { source: 'none' }),
  };
}

/** What `azcmagent show -j` prints, computed in-process by show's own code (buildShow). */
async function showEntry(home: HomeLayout): Promise<Entry> {
  try {
    const { result, problems } = await gatherShow(home);
    const errors = problems.map((e) => e.toJSON());
    return {
      name: 'show.json',
      data: json(redactDocument({ ...result, ...(errors.length ? { problems: errors } : {}) })),
    };
  } catch (err) {
    return { name: 'show.json', data: json({ error: redactText((err as Error).message) }) };
  }
}

async function systemEntries(): Promise<Entry[]> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const uname = [os.type(), os.hostname(), os.release(), os.version(), os.machine()].join(' ');
  return [
    {
      name: 'versions.json',
      data: json({ agent: VERSION, node: process.versions.node, openssl: process.versions.openssl }),
    },
    { name: 'os.txt', data: `uname: ${uname}\n\n/etc/os-release:\n${osRelease}` },
  ];
}

/** Everything but the logs: configuration, meter, show, versions, OS. */
async function stateEntries(home: HomeLayout): Promise<Entry[]> {
  const configs = await Promise.all(
    [home.localConfig, home.agentConfig, home.cloudConfig].map((p) => configEntry(p, basename(p))),
  );
  return [
    ...configs.filter((e): e is Entry => e !== undefined),
    await meterEntry(home),
    await showEntry(home),
    ...(await systemEntries()),
  ];
}

async function bundle(
  opts: LogsOptions,
  log: Logger,
): Promise<{ file: string; entries: string[]; skipped: string[] }> {
  const home = resolveHome(opts.home, process.env);
  const file = resolve(opts.output ?? defaultBundleName(new Date(), os.hostname()));
  const full = opts.full === true;
  const failed = (err: unknown) =>
    new AgentError('LOGS_BUNDLE_FAILED', `${file}: ${(err as Error).message}`, { cause: err });
  const zip = await createZipFile(file).catch((err: unknown) => Promise.reject(failed(err)));
  const names: string[] = [];
  const skipped: string[] = [];
  const add = async (e: Entry) => {
    await zip.add(e.name, e.data, e.mtime);
    names.push(e.name);
  };
  try {
    for await (const e of logEntries(home.log, full, skipped, log)) await add(e);
    for (const e of await stateEntries(home)) await add(e);
    const manifest = {
      created: new Date().toISOString(),
      home: home.root,
      full,
      entries: [...names],
      skipped,
      never: ['certs/', 'tokens/'],
      redaction:
        'secret-named fields, credentials in URLs, Authorization values, private keys, SAS signatures, JWTs',
    };
    await add({ name: 'manifest.json', data: json(manifest) });
    await zip.close();
  } catch (err) {
    await zip.abort();
    throw failed(err);
  }
  return { file, entries: names, skipped };
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('write a ZIP of logs, configuration (secrets removed) and state, for support')
    .option('-o, --output <file>', 'where to write it (default: azcmagent-<time>-<host>.zip here)')
    .option('-f, --full', 'all logs, rotated ones too (default: the current files)')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<LogsOptions>();
      const home = resolveHome(opts.home, process.env);
      const { log, close } = openCommandLog({ logDir: home.log, verbose: opts.verbose });
      try {
        const result = await bundle(opts, log);
        log.info(
          { file: result.file, entries: result.entries.length, full: opts.full === true },
          'logs: bundle written',
        );
        await close();
        if (opts.json) return printJson(result);
        process.stdout.write(`${result.file}\n`);
        process.stderr.write(
          `azcmagent: ${result.entries.length} files in the bundle${result.skipped.length ? `, ${result.skipped.length} skipped (see manifest.json)` : ''}\n`,
        );
      } catch (err) {
        log.error({ code: (err as AgentError).code }, 'logs failed');
        await close();
        fail(err, opts.json);
      }
    });
}

// `azcmagent proxy stats | denied`: the Arc Proxy's traffic meter, asked of the running proxy over
// <home>/socks/arcproxy.sock, or read from the totals it saved when it is not running.
import type { Command } from 'commander';
import http from 'node:http';
import { resolveHome } from '../core/index.ts';
import {
  adminSocket,
  deniedDestinations,
  meterFile,
  readMeterFile,
  type MeterSnapshot,
} from '../proxy/index.ts';
import { fail, printJson, printTable, type GlobalOptions } from './output.ts';

interface Stats {
  live: boolean;
  snapshot: MeterSnapshot;
}

function askProxy(socketPath: string, path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer on ${socketPath}`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? resolve(undefined) : reject(err),
    );
  });
}

async function readStats(homeFlag: string | undefined): Promise<Stats> {
  const home = resolveHome(homeFlag, process.env);
  const text = await askProxy(adminSocket(home), '/stats');
  if (text !== undefined) return { live: true, snapshot: JSON.parse(text) as MeterSnapshot };
  const saved = await readMeterFile(meterFile(home));
  return { live: false, snapshot: saved ?? { since: new Date().toISOString(), entries: [] } };
}

const notRunning = (s: Stats) => {
  if (!s.live) process.stderr.write('azcmagent: arcproxy is not running; showing the totals it saved last\n');
};

export function registerProxy(program: Command): void {
  const proxy = program.command('proxy').description("the Arc Proxy's traffic meter");
  proxy
    .command('stats')
    .description('traffic per client, destination and route, largest first')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      try {
        const stats = await readStats(opts.home);
        notRunning(stats);
        if (opts.json) return printJson({ running: stats.live, ...stats.snapshot });
        printTable(
          [
            'CLIENT',
            'DESTINATION',
            'ROUTE',
            'SENT',
            'RECEIVED',
            'TUNNELS',
            'REQUESTS',
            'DENIED',
            'WOULD-DENY',
            'ERRORS',
            'LAST SEEN',
          ],
          stats.snapshot.entries.map((e) => [
            e.client,
            e.destination,
            e.route,
            String(e.bytesSent),
            String(e.bytesReceived),
            String(e.tunnels),
            String(e.requests),
            String(e.denied),
            String(e.wouldDeny),
            Object.entries(e.errors)
              .map(([c, n]) => `${c}=${n}`)
              .join(',') || '-',
            e.lastSeen,
          ]),
        );
        process.stdout.write(`(bytes are payload bytes; counting since ${stats.snapshot.since})\n`);
      } catch (err) {
        fail(err, opts.json);
      }
    });
  proxy
    .command('denied')
    .description('destinations refused by the allow-list, or that would be in enforce mode')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      try {
        const stats = await readStats(opts.home);
        notRunning(stats);
        const denied = deniedDestinations(stats.snapshot);
        if (opts.json) return printJson({ running: stats.live, destinations: denied });
        printTable(
          ['DESTINATION', 'DENIED', 'WOULD-DENY', 'CLIENTS', 'LAST SEEN', 'TO ALLOW'],
          denied.map((d) => [
            d.destination,
            String(d.denied),
            String(d.wouldDeny),
            d.clients.join(','),
            d.lastSeen,
            `azcmagent config set arcproxy.allowlist ${d.destination} --add`,
          ]),
        );
      } catch (err) {
        fail(err, opts.json);
      }
    });
}

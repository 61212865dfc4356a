// `npm start`: the whole system on one machine. Starts the local cloud and an agent (all its
// services) in a fresh demo folder, connects the agent to the cloud, prints what to try next, and
// runs until Ctrl+C, then stops both cleanly. Everything listens on 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const agentBin = join(root, 'dist/azcmagent.js');
const cloudBin = join(root, 'dist/arc-local-cloud.js');
const dir = process.env['AZCM_DEMO_DIR'] ?? mkdtempSync(join(tmpdir(), 'azcmagent-demo-'));
const home = join(dir, 'home');
const children: ChildProcess[] = [];

/**
 * Starts a daemon from its executable, as an installed agent starts (with the launch flags of its
 * first lines), and resolves with its first stdout lines once `ready` matches.
 */
function startDaemon(
  name: string,
  [bin, ...args]: [string, ...string[]],
  ready: RegExp,
): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  return new Promise((resolveReady, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = ready.exec(out);
      if (match) resolveReady({ proc, match });
    });
    proc.once('exit', (code) =>
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`)),
    );
  });
}

function run(args: string[]): Promise<number> {
  return new Promise((resolveRun) => {
    const proc = spawn(agentBin, args, { stdio: 'inherit' });
    proc.once('exit', (code) => resolveRun(code ?? 1));
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.reverse().map(
      (c) =>
        new Promise<void>((done) => {
          if (c.exitCode !== null) return done();
          c.once('exit', () => done());
          c.kill('SIGTERM');
        }),
    ),
  );
}

async function main(): Promise<void> {
  process.stdout.write(`demo folder: ${dir}\n`);
  const cloud = await startDaemon(
    'arc-local-cloud',
    [cloudBin, '--data', join(dir, 'cloud'), '--port', '0'],
    /ready on (\S+) \(profile (\S+), connect config (\S+),/,
  );
  const [, cloudUrl, profile, connectConfig] = cloud.match;
  process.stdout.write(`local cloud: ${cloudUrl}\n`);
  const agent = await startDaemon(
    'azcmagent',
    [agentBin, 'run', '--home', home, '--proxy-port', '0', '--himds-port', '0', '--cloud', profile!],
    /arcproxy ready on (\S+)[\s\S]*himds ready on (\S+)/,
  );
  const [, proxyUrl, himdsUrl] = agent.match;
  // Through the local cloud's Arc gateway (the file beside connect.json): the whole path, metered as
  // route "gateway"; `config set connection.type direct` switches to the direct route live.
  const viaGateway = join(dirname(connectConfig!), 'connect-gateway.json');
  const code = await run(['connect', '--home', home, '--config', viaGateway]);
  if (code !== 0) throw new Error(`azcmagent connect exited with ${code}`);
  const cli = `${agentBin} --home ${home}`;
  process.stdout.write(
    [
      '',
      "The agent is connected to the local cloud through the cloud's Arc gateway. Try, from another shell:",
      `  ${cli} show`,
      `  ${cli} proxy stats                          # route "gateway" to the cloud`,
      `  ${cli} check                                # every endpoint, its route, TLS and latency`,
      `  ${cli} config set connection.type direct    # live, without cutting open tunnels`,
      `  ${cli} config set arcproxy.allowlist.mode enforce`,
      `  curl -x ${proxyUrl!.replace('http://', 'http://mytool@')} http://example.com/    # metered as "mytool"`,
      `  curl -H Metadata:true '${himdsUrl}/metadata/instance?api-version=2020-06-01'`,
      '',
      'Ctrl+C stops the agent and the cloud.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  process.stdout.write('stopping...\n');
  await stopAll();
}

main().catch(async (err: unknown) => {
  process.stderr.write(`npm start: ${(err as Error).message}\n`);
  await stopAll();
  process.exit(1);
});

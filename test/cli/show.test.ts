// `azcmagent show`, run as users run it: the real agent's fields from agentconfig.json,
// localconfig.json and the services' sockets; filters by display name or JSON key; a stable JSON
// shape; no proxy password; and it works for a user who is not root.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, azcmagent, startDaemon } from '../helpers/cli.ts';
import { execFileP, tempDir } from '../helpers/world.ts';

const run = (home: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  azcmagent(['show', ...args, '--home', home], {
    HTTPS_PROXY: '',
    https_proxy: '',
    HTTP_PROXY: '',
    http_proxy: '',
    ...env,
  });

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The documented JSON keys, in order (docs/cli.md). */
const JSON_KEYS = [
  'resourceName',
  'resourceGroup',
  'resourceId',
  'subscriptionId',
  'tenantId',
  'vmId',
  'correlationId',
  'location',
  'cloud',
  'agentVersion',
  'agentLogfile',
  'status',
  'lastHeartbeat',
  'agentErrorCode',
  'agentErrorDetails',
  'agentErrorTimestamp',
  'httpsProxy',
  'proxyBypassList',
  'upstreamProxy',
  'gatewayUrl',
  'connectionType',
  'connectionTypeInEffect',
  'services',
];

const RESOURCE_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/machines/web-01';

const connected = {
  resourceName: 'web-01',
  resourceGroup: 'rg-arc',
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  tenantId: '00000000-0000-0000-0000-00000000000a',
  location: 'westeurope',
  cloud: 'AzureCloud',
  resourceId: RESOURCE_ID,
  vmId: '11111111-2222-3333-4444-555555555555',
  correlationId: '99999999-8888-7777-6666-555555555555',
  status: 'Connected',
  lastHeartbeat: '2026-07-24T08:24:15Z',
  errorCode: 'CLOUD_REQUEST_FAILED',
  errorDetails: 'the cloud refused or failed the request. retry later',
  errorTimestamp: '2026-07-24T08:19:15Z',
};

/** cloudconfig.json naming the gateway this machine is associated with. */
const gatewayCloudConfig = {
  gateway: {
    id: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/gateways/gw-01',
    url: 'https://gw-01.gw.arc.azure.com',
    endpoints: ['management.azure.com', '*.his.arc.azure.com'],
  },
};

function homeWith(agent?: object, local?: object, cloud?: object): string {
  const home = tempDir();
  if (agent) writeFileSync(join(home, 'agentconfig.json'), JSON.stringify(agent));
  if (local) writeFileSync(join(home, 'localconfig.json'), JSON.stringify(local));
  if (cloud) writeFileSync(join(home, 'cloudconfig.json'), JSON.stringify(cloud));
  return home;
}

/** `Name : value` lines as a map; the heading row has no colon. */
function fields(stdout: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of stdout.trimEnd().split('\n')) {
    const m = /^(.*?) +:(?: (.*))?$/.exec(line);
    if (m) map.set(m[1]!.trim(), m[2] ?? '');
  }
  return map;
}

describe('azcmagent show', () => {
  it('on a machine that is not connected: status NotConnected, services stopped, our version', async () => {
    const home = tempDir();
    const r = await run(home, []);
    expect(r.code, r.stderr).toBe(0);
    const f = fields(r.stdout);
    expect(f.get('Agent Status')).toBe('NotConnected');
    expect(f.get('Resource Name')).toBe('');
    expect(f.get('Agent Version')).toBe(PACKAGE_VERSION);
    expect(f.get('Agent Logfile')).toBe(join(home, 'log', 'himds.log'));
    expect(f.get('Connection Type')).toBe('default');
    expect(f.get('Connection Type In Effect')).toBe('direct');
    expect(f.get('Using HTTPS Proxy')).toBe('');
    for (const s of [
      'Agent Service (himds)',
      'Azure Arc Proxy (arcproxy)',
      'Extension Service (extd)',
      'GC Service (gcad)',
    ])
      expect(f.get(s)).toBe('stopped');
    expect(r.stdout).toMatch(/^Dependent Service Status$/m);
    // Every colon in one column, as the real agent prints it.
    const colons = r.stdout
      .trimEnd()
      .split('\n')
      .filter((l) => l.includes(' :'))
      .map((l) => l.indexOf(' :'));
    expect(new Set(colons).size).toBe(1);
  });

  it('prints the fields of a connected machine in the real agent order, and the same as stable JSON', async () => {
    const home = homeWith(
      connected,
      { 'proxy.bypass': ['ARM', 'Arc'], 'connection.type': 'gateway' },
      gatewayCloudConfig,
    );
    const text = await run(home, []);
    expect(text.code, text.stderr).toBe(0);
    const names = [...fields(text.stdout).keys()];
    expect(names.slice(0, 12)).toEqual([
      'Resource Name',
      'Resource Group Name',
      'Resource Id',
      'Subscription ID',
      'Tenant ID',
      'VM ID',
      'Correlation ID',
      'Location',
      'Cloud',
      'Agent Version',
      'Agent Logfile',
      'Agent Status',
    ]);
    const f = fields(text.stdout);
    expect(f.get('Resource Id')).toBe(RESOURCE_ID);
    expect(f.get('Agent Status')).toBe('Connected');
    expect(f.get('Agent Last Heartbeat')).toBe('2026-07-24T08:24:15Z');
    expect(f.get('Agent Error Code')).toBe('CLOUD_REQUEST_FAILED');
    expect(f.get('Proxy Bypass List')).toBe(
      'ARM,Arc (ignored: the Arc gateway is in use; gateway.bypass names what skips it)',
    );
    expect(f.get('Gateway URL')).toBe('https://gw-01.gw.arc.azure.com');
    expect(f.get('Connection Type')).toBe('gateway');
    expect(f.get('Connection Type In Effect')).toBe('gateway');

    const json = await run(home, ['-j']);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(JSON_KEYS);
    expect(parsed).toMatchObject({
      resourceName: 'web-01',
      resourceGroup: 'rg-arc',
      resourceId: RESOURCE_ID,
      subscriptionId: connected.subscriptionId,
      tenantId: connected.tenantId,
      vmId: connected.vmId,
      correlationId: connected.correlationId,
      location: 'westeurope',
      cloud: 'AzureCloud',
      agentVersion: PACKAGE_VERSION,
      status: 'Connected',
      lastHeartbeat: '2026-07-24T08:24:15Z',
      agentErrorCode: 'CLOUD_REQUEST_FAILED',
      agentErrorDetails: connected.errorDetails,
      agentErrorTimestamp: '2026-07-24T08:19:15Z',
      httpsProxy: '',
      proxyBypassList: ['ARM', 'Arc'],
      upstreamProxy: '',
      gatewayUrl: 'https://gw-01.gw.arc.azure.com',
      connectionType: 'gateway',
      connectionTypeInEffect: 'gateway',
      services: { himds: 'stopped', arcproxy: 'stopped', extd: 'stopped', gcad: 'stopped' },
    });
  });

  it.each(['Disconnected', 'Expired'])(
    'reports the cloud status %s from agentconfig.json',
    async (status) => {
      const r = await run(homeWith({ ...connected, status }), ['status', '-j']);
      expect(JSON.parse(r.stdout)).toEqual({ status });
    },
  );

  it('filters by display name (any case) or JSON key, and by service', async () => {
    const home = homeWith(connected);
    const text = await run(home, ['Agent Status', 'lastheartbeat', 'AZURE ARC PROXY (arcproxy)']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trimEnd().split('\n')).toEqual([
      'Agent Status                 : Connected',
      'Agent Last Heartbeat         : 2026-07-24T08:24:15Z',
      'Dependent Service Status',
      '  Azure Arc Proxy (arcproxy) : stopped',
    ]);
    const json = await run(home, ['-j', 'resourceId', 'Agent Version', 'services']);
    expect(JSON.parse(json.stdout)).toEqual({
      resourceId: RESOURCE_ID,
      agentVersion: PACKAGE_VERSION,
      services: { himds: 'stopped', arcproxy: 'stopped', extd: 'stopped', gcad: 'stopped' },
    });
  });

  it('refuses an unknown property with ARGUMENT_INVALID (23), listing the valid names', async () => {
    const r = await run(tempDir(), ['Agent Status', 'Agent Mood']);
    expect(r.code).toBe(23);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Error ARGUMENT_INVALID');
    expect(r.stderr).toContain('unknown property "Agent Mood"');
    for (const name of [
      'Agent Status (status)',
      'Agent Last Heartbeat (lastHeartbeat)',
      'Upstream Proxy (upstreamProxy)',
    ])
      expect(r.stderr).toContain(name);
    expect(r.stderr).toContain('To fix:');
  });

  it('shows the running Arc Proxy as the HTTPS proxy, and its service as running', async () => {
    const home = tempDir();
    const d = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
    try {
      const r = await run(home, ['-j', 'httpsProxy', 'services']);
      const parsed = JSON.parse(r.stdout) as { httpsProxy: string; services: Record<string, string> };
      // The port /health reports, or the documented 40343 when the proxy does not say.
      expect([`http://localhost:${d.port}`, 'http://localhost:40343']).toContain(parsed.httpsProxy);
      expect(parsed.services).toEqual({
        himds: 'stopped',
        arcproxy: 'running',
        extd: 'stopped',
        gcad: 'stopped',
      });
    } finally {
      await d.stop();
    }
  });
});

describe('the upstream proxy in show', () => {
  it('is proxy.url with its password redacted, nowhere printed in full', async () => {
    const home = homeWith(undefined, { 'proxy.url': 'http://alice:s3cret-pw@proxy.contoso.com:3128' });
    for (const args of [[], ['-j']]) {
      const r = await run(home, args);
      expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
      expect(r.stdout + r.stderr).not.toContain('alice');
    }
    expect(JSON.parse((await run(home, ['-j', 'upstreamProxy'])).stdout)).toEqual({
      upstreamProxy: 'http://REDACTED@proxy.contoso.com:3128',
    });
  });

  it('is HTTPS_PROXY when proxy.url is empty (redacted), but not when it points at the Arc Proxy itself', async () => {
    const home = tempDir();
    const fromEnv = await run(home, ['-j', 'upstreamProxy'], {
      HTTPS_PROXY: 'http://bob:hunter2@corp-proxy:8080',
    });
    expect(JSON.parse(fromEnv.stdout)).toEqual({ upstreamProxy: 'http://REDACTED@corp-proxy:8080' });
    expect(fromEnv.stdout).not.toContain('hunter2');
    const ownProxy = await run(home, ['-j', 'upstreamProxy'], { https_proxy: 'http://extd@127.0.0.1:40343' });
    expect(JSON.parse(ownProxy.stdout)).toEqual({ upstreamProxy: '' });
  });
});

describe('the connection type in show', () => {
  it('default with a gateway in cloudconfig.json is in effect as gateway', async () => {
    const r = await run(homeWith(connected, undefined, gatewayCloudConfig), [
      '-j',
      'connectionType',
      'connectionTypeInEffect',
      'gatewayUrl',
    ]);
    expect(JSON.parse(r.stdout)).toEqual({
      gatewayUrl: 'https://gw-01.gw.arc.azure.com',
      connectionType: 'default',
      connectionTypeInEffect: 'gateway',
    });
  });

  it('gateway without a gateway in cloudconfig.json says it falls back to direct', async () => {
    const home = homeWith(connected, { 'connection.type': 'gateway' });
    const f = fields((await run(home, [])).stdout);
    expect(f.get('Connection Type')).toBe('gateway');
    expect(f.get('Connection Type In Effect')).toBe(
      'direct (connection.type is gateway, but no Arc gateway is associated with this machine)',
    );
    expect(JSON.parse((await run(home, ['-j', 'connectionTypeInEffect'])).stdout)).toEqual({
      connectionTypeInEffect: 'direct',
    });
  });

  it('direct with an associated gateway says the gateway is not used, and proxy.bypass applies', async () => {
    const home = homeWith(
      connected,
      { 'connection.type': 'direct', 'proxy.bypass': ['AAD'] },
      gatewayCloudConfig,
    );
    const f = fields((await run(home, [])).stdout);
    expect(f.get('Connection Type In Effect')).toBe(
      'direct (an Arc gateway is associated, but connection.type is direct)',
    );
    expect(f.get('Proxy Bypass List')).toBe('AAD');
  });

  it('a cloudconfig.json it cannot read is named with the fix, and exit code 70', async () => {
    const home = homeWith(connected);
    writeFileSync(join(home, 'cloudconfig.json'), '{"gateway": ');
    const r = await run(home, ['-j', 'gatewayUrl', 'connectionTypeInEffect']);
    expect(r.code).toBe(70);
    expect(JSON.parse(r.stdout)).toEqual({ gatewayUrl: '', connectionTypeInEffect: '' });
    expect(r.stderr).toContain(join(home, 'cloudconfig.json'));
  });
});

describe('a file that show cannot read', () => {
  it('is named with the fix; what could be read is still printed, and the exit code is 70', async () => {
    const home = homeWith(undefined, { 'proxy.bypass': ['AAD'] });
    writeFileSync(join(home, 'agentconfig.json'), '{"resourceName": ');
    const r = await run(home, ['-j']);
    expect(r.code).toBe(70);
    const parsed = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(JSON_KEYS);
    expect(parsed).toMatchObject({
      status: 'Unknown',
      proxyBypassList: ['AAD'],
      agentVersion: PACKAGE_VERSION,
    });
    expect(r.stderr).toContain('Error CONFIG_UNREADABLE');
    expect(r.stderr).toContain(join(home, 'agentconfig.json'));
    expect(r.stderr).toContain('To fix:');
  });
});

// A normal user can run show (the real agent needs no admin since 1.31): it reads only files that
// are 0644 and asks the services over their sockets. Needs root to switch to "nobody".
const asNobody = (home: string, args: string[]) =>
  execFileP(process.execPath, [BIN, 'show', ...args, '--home', home], {
    uid: 65534,
    gid: 65534,
    timeout: 20_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );

describe.skipIf(process.getuid?.() !== 0)('show as a user who is not root', () => {
  it('reads what it may, says which service it could not ask, and names a file it cannot read', async () => {
    const home = homeWith(connected, { 'proxy.url': 'http://proxy.contoso.com:3128' });
    chmodSync(home, 0o755);
    mkdirSync(join(home, 'certs'), { mode: 0o700 });
    writeFileSync(join(home, 'certs', 'machine.key'), 'not for users', { mode: 0o600 });
    const d = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
    try {
      const ok = await asNobody(home, ['-j']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({
        resourceName: 'web-01',
        status: 'Connected',
        upstreamProxy: 'http://proxy.contoso.com:3128',
        // Its socket is root's (0755): a normal user may not connect, so the state is unknown, not "stopped".
        services: { arcproxy: 'unknown', himds: 'stopped' },
      });
      expect(ok.stderr).toContain(
        'could not ask Azure Arc Proxy whether it is running: no permission to open',
      );

      chmodSync(join(home, 'agentconfig.json'), 0o600);
      const denied = await asNobody(home, []);
      expect(denied.code).toBe(70);
      expect(fields(denied.stdout).get('Agent Status')).toBe('Unknown');
      expect(denied.stderr).toContain(join(home, 'agentconfig.json'));
      expect(denied.stderr).toMatch(/EACCES|permission denied/);
      expect(denied.stderr).toContain('To fix: make the file readable');
    } finally {
      await d.stop();
    }
  });
});

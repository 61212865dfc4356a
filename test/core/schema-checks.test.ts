// The checks generated from the typebox schemas (core/schema-checks.generated.ts) are what the schemas
// generate today, and answer as typebox does; the defaults config.ts fills in are typebox's.
import { readFile } from 'node:fs/promises';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { GENERATED, schemaChecksSource } from '../../core/generate-schema-checks.ts';
import {
  AzureCloud,
  BUILTIN_CLOUDS,
  defaultConfig,
  fitsSchema,
  parseLocalConfig,
  type SchemaName,
} from '../../core/index.ts';
import * as schemas from '../../core/schemas.ts';

describe('generated schema checks', () => {
  it('are what the schemas in core/schemas.ts generate (else: npm run generate)', async () => {
    expect(await readFile(GENERATED, 'utf8')).toBe(await schemaChecksSource());
  });

  const gateway = { id: '/subscriptions/s/gw', url: 'https://gw.example', endpoints: ['a.example'] };
  const state = {
    resourceName: 'm',
    resourceGroup: 'rg',
    subscriptionId: 's',
    tenantId: 't',
    location: 'eastus',
    cloud: 'AzureCloud',
    resourceId: '/subscriptions/s/m',
  };
  const samples: Record<SchemaName, unknown[]> = {
    LocalConfigSchema: [
      defaultConfig(),
      { ...defaultConfig(), 'proxy.url': 'http://user:pw@proxy.contoso.com:3128', extra: 1 },
      { ...defaultConfig(), 'proxy.url': 'ftp://x' },
      {
        ...defaultConfig(),
        'arcproxy.allowlist': ['*.example.com:8443', '[::1]:443', '10.0.0.1', 'fe80::1'],
      },
      { ...defaultConfig(), 'arcproxy.allowlist': ['not a host!'] },
      { ...defaultConfig(), 'extensions.blocklist': ['Allow/None'] },
      { ...defaultConfig(), 'incomingconnections.ports': [22, 65536] },
      { ...defaultConfig(), 'connection.type': 'carrier-pigeon' },
      {},
      null,
    ],
    AgentStateSchema: [state, { ...state, status: 'Expired', future: 1 }, { ...state, status: 'Gone' }, {}],
    GatewayConfigSchema: [gateway, { ...gateway, url: 'http://gw.example' }, { ...gateway, id: '' }],
    CloudConfigSchema: [{ gateway: null }, { gateway }, { gateway: { ...gateway, endpoints: [1] } }, {}],
    CloudProfileSchema: [...Object.values(BUILTIN_CLOUDS), { ...AzureCloud, name: '' }, { name: 'x' }],
  };

  it.each(Object.keys(samples) as SchemaName[])('%s answers as Value.Check does', (name) => {
    for (const value of samples[name])
      expect(fitsSchema(name, value), JSON.stringify(value)).toBe(Value.Check(schemas[name], value));
  });
});

describe('localconfig.json defaults', () => {
  it('are what Value.Default puts in', async () => {
    expect(defaultConfig()).toEqual(Value.Default(schemas.LocalConfigSchema, {}));
    for (const given of [
      { 'proxy.url': 'http://p:3128', 'proxy.bypass': ['ARM'] },
      { 'arcproxy.allowlist.mode': 'enforce', 'gateway.bypass': ['*.contoso.com'], unknown: { a: 1 } },
    ])
      expect(await parseLocalConfig(given, 'test')).toEqual(
        Value.Default(schemas.LocalConfigSchema, structuredClone(given)),
      );
  });
});

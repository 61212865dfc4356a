// ARM for Microsoft.HybridCompute/gateways (PUT, GET, DELETE, lists by resource group and by
// subscription) and for a machine's settings/default, whose gatewayResourceId associates the machine
// with a gateway (`az arcgateway settings update`, `Update-AzArcSetting`). Same preamble, errors and
// paging as the machine routes (arm-routes.ts); the gateway api-versions. Every change is in the
// database at once, so the gateway's next CONNECT check and the machine's next heartbeat see it.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { GATEWAY_API_VERSIONS } from './api-version.ts';
import {
  armErrorHandler,
  armErrors,
  armOnRequest,
  GROUP,
  GroupParams,
  MACHINES,
  armPage,
  Query,
  SubParams,
} from './arm-routes.ts';
import { CloudError } from './errors.ts';
import {
  GATEWAY_TYPE,
  gatewayKey,
  gatewayResourceId,
  renderGateway,
  renderSettings,
} from './gateway-resource.ts';
import { checkNames, machineKey, machineResourceId, normalizeLocation } from './machine-resource.ts';
import type { CloudStore, GatewayRecord } from './store.ts';
import type { TokenIssuer } from './token-issuer.ts';

export interface GatewayArmRoutesOptions {
  store: CloudStore;
  tokens: TokenIssuer;
  subscriptionId: string;
  regions: string[];
  pageSize: number;
  now: () => Date;
}

const GATEWAYS = '/providers/Microsoft.HybridCompute/gateways';
const SETTINGS = '/providers/Microsoft.HybridCompute/settings/default';

const Gateway = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  location: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
  properties: Type.Object({
    provisioningState: Type.String(),
    gatewayId: Type.String(),
    gatewayType: Type.String(),
    gatewayEndpoint: Type.String(),
    allowedFeatures: Type.Array(Type.String()),
  }),
});
const GatewayList = Type.Object({ value: Type.Array(Gateway), nextLink: Type.Optional(Type.String()) });
const GatewayBody = Type.Object(
  {
    location: Type.String({ minLength: 1 }),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
    properties: Type.Optional(
      Type.Object(
        {
          gatewayType: Type.Optional(Type.Literal('Public')),
          allowedFeatures: Type.Optional(Type.Array(Type.String())),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);

const Settings = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  properties: Type.Object({
    tenantId: Type.String(),
    gatewayProperties: Type.Object({
      gatewayId: Type.Union([Type.String(), Type.Null()]),
      gatewayResourceId: Type.Union([Type.String(), Type.Null()]),
    }),
  }),
});
const SettingsBody = Type.Object(
  {
    properties: Type.Object(
      {
        gatewayProperties: Type.Optional(
          Type.Object(
            { gatewayResourceId: Type.Optional(Type.Union([Type.String(), Type.Null()])) },
            { additionalProperties: true },
          ),
        ),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);

const NamedParams = Type.Object({
  subscriptionId: Type.String(),
  resourceGroup: Type.String(),
  name: Type.String(),
});

export const gatewayArmRoutes: FastifyPluginCallbackTypebox<GatewayArmRoutesOptions> = (app, opts, done) => {
  const { store, tokens, now } = opts;
  app.addHook('onRequest', armOnRequest(opts, GATEWAY_API_VERSIONS, 'gateways'));
  app.setErrorHandler(armErrorHandler(tokens));

  const page = (request: FastifyRequest, resourceGroup?: string) =>
    armPage(
      request,
      opts.pageSize,
      (offset, limit) =>
        store.listGateways({
          subscriptionId: opts.subscriptionId,
          ...(resourceGroup !== undefined ? { resourceGroup } : {}),
          offset,
          limit,
        }),
      renderGateway,
    );

  app.get(
    `/subscriptions/:subscriptionId${GATEWAYS}`,
    { schema: { params: SubParams, querystring: Query, response: { 200: GatewayList, ...armErrors } } },
    (request, reply) => {
      void reply.send(page(request));
    },
  );

  app.get(
    `${GROUP}${GATEWAYS}`,
    { schema: { params: GroupParams, querystring: Query, response: { 200: GatewayList, ...armErrors } } },
    (request, reply) => {
      checkNames(request.params.resourceGroup);
      void reply.send(page(request, request.params.resourceGroup));
    },
  );

  const notFound = (type: string, p: Static<typeof NamedParams>) =>
    new CloudError(
      'ResourceNotFound',
      `The Resource '${type}/${p.name}' under resource group '${p.resourceGroup}' was not found.`,
    );

  app.get(
    `${GROUP}${GATEWAYS}/:name`,
    { schema: { params: NamedParams, querystring: Query, response: { 200: Gateway, ...armErrors } } },
    (request, reply) => {
      const p = request.params;
      checkNames(p.resourceGroup, p.name);
      const g = store.getGateway(gatewayKey(gatewayResourceId(opts.subscriptionId, p.resourceGroup, p.name)));
      if (!g) throw notFound(GATEWAY_TYPE, p);
      void reply.send(renderGateway(g));
    },
  );

  app.put(
    `${GROUP}${GATEWAYS}/:name`,
    {
      schema: {
        params: NamedParams,
        querystring: Query,
        body: GatewayBody,
        response: { 200: Gateway, 201: Gateway, ...armErrors },
      },
    },
    (request, reply) => {
      const p = request.params;
      const { body } = request;
      checkNames(p.resourceGroup, p.name);
      const location = normalizeLocation(body.location);
      if (!opts.regions.includes(location))
        throw new CloudError(
          'LocationNotAvailableForResourceType',
          `The provided location '${body.location}' is not available for resource type '${GATEWAY_TYPE}'. List of available regions for the resource type is '${opts.regions.join(',')}'.`,
        );
      const id = gatewayResourceId(opts.subscriptionId, p.resourceGroup, p.name);
      const at = now().toISOString();
      const saved = store.transaction(() => {
        const existing = store.getGateway(gatewayKey(id));
        if (existing && existing.location !== location)
          throw new CloudError(
            'InvalidResourceLocation',
            `The resource '${p.name}' already exists in location '${existing.location}' in resource group '${p.resourceGroup}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
          );
        const gateway: GatewayRecord = {
          key: gatewayKey(id),
          resourceId: existing?.resourceId ?? id,
          subscriptionId: opts.subscriptionId,
          resourceGroup: existing?.resourceGroup ?? p.resourceGroup,
          name: existing?.name ?? p.name,
          location,
          // The guid names the gateway's endpoint: it stays for the resource's life.
          gatewayId: existing?.gatewayId ?? randomUUID(),
          gatewayType: body.properties?.gatewayType ?? existing?.gatewayType ?? 'Public',
          allowedFeatures: body.properties?.allowedFeatures ?? existing?.allowedFeatures ?? ['*'],
          tags: body.tags ?? existing?.tags ?? {},
          createdAt: existing?.createdAt ?? at,
          updatedAt: at,
        };
        store.putGateway(gateway);
        return { gateway, created: !existing };
      });
      request.log.info({ resourceId: id, created: saved.created }, 'gateway resource saved');
      void reply.code(saved.created ? 201 : 200).send(renderGateway(saved.gateway));
    },
  );

  app.delete(
    `${GROUP}${GATEWAYS}/:name`,
    {
      schema: {
        params: NamedParams,
        querystring: Query,
        response: { 200: Type.Unknown({ description: 'no body' }), 204: Type.Unknown(), ...armErrors },
      },
    },
    (request, reply) => {
      const p = request.params;
      checkNames(p.resourceGroup, p.name);
      const id = gatewayResourceId(opts.subscriptionId, p.resourceGroup, p.name);
      // Its machines are detached with it: their next heartbeat says gateway null.
      const deleted = store.deleteGateway(gatewayKey(id));
      request.log.info({ resourceId: id, deleted }, 'gateway resource delete');
      void reply.code(deleted ? 200 : 204).send(undefined);
    },
  );

  const machineOf = (p: Static<typeof NamedParams>) => {
    checkNames(p.resourceGroup, p.name);
    const m = store.getMachine(machineKey(machineResourceId(opts.subscriptionId, p.resourceGroup, p.name)));
    if (!m) throw notFound('Microsoft.HybridCompute/machines', p);
    return m;
  };

  app.get(
    `${GROUP}${MACHINES}/:name${SETTINGS}`,
    { schema: { params: NamedParams, querystring: Query, response: { 200: Settings, ...armErrors } } },
    (request, reply) => {
      const m = machineOf(request.params);
      void reply.send(renderSettings(m.resourceId, store.machineGateway(m.key), tokens.tenantId));
    },
  );

  // PUT as the SPEC says; PATCH too, with the same meaning, for clients that update in place.
  for (const method of ['PUT', 'PATCH'] as const)
    app.route({
      method,
      url: `${GROUP}${MACHINES}/:name${SETTINGS}`,
      schema: {
        params: NamedParams,
        querystring: Query,
        body: SettingsBody,
        response: { 200: Settings, ...armErrors },
      },
      handler: (request, reply) => {
        const m = machineOf(request.params);
        const wanted = request.body.properties.gatewayProperties?.gatewayResourceId;
        // An empty or null id detaches the machine (reference section 6.2).
        const gateway = wanted ? store.getGateway(gatewayKey(wanted)) : undefined;
        if (wanted && !gateway)
          throw new CloudError(
            'InvalidGatewayResourceId',
            `The gateway '${wanted}' was not found; create it first (PUT ...${GATEWAYS}/{name}) or give an empty id to detach.`,
          );
        if (method === 'PATCH' && request.body.properties.gatewayProperties === undefined) {
          void reply.send(renderSettings(m.resourceId, store.machineGateway(m.key), tokens.tenantId));
          return;
        }
        store.setMachineGateway(m.key, gateway?.key, now().toISOString());
        request.log.info(
          { resourceId: m.resourceId, gateway: gateway?.resourceId ?? null },
          'machine settings saved',
        );
        void reply.send(renderSettings(m.resourceId, gateway, tokens.tenantId));
      },
    });
  done();
};

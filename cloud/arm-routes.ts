// ARM for Microsoft.HybridCompute/machines: PUT, GET, DELETE, and lists by resource group and by
// subscription, with ARM's api-version rule, Bearer tokens for the management audience, paging by
// nextLink, and ARM's error contract. Every resource group of the cloud's one subscription exists.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { checkApiVersion, MACHINE_API_VERSIONS } from './api-version.ts';
import { requireBearer, setChallenge } from './bearer.ts';
import { CloudError, ErrorBodySchema, toCloudError } from './errors.ts';
import {
  checkNames,
  clientProperties,
  connectionFacts,
  machineKey,
  machineResourceId,
  normalizeLocation,
  renderMachine,
} from './machine-resource.ts';
import { ARM_ENDPOINT } from './profile.ts';
import { machineStatus } from './status.ts';
import type { CloudStore, MachineRecord } from './store.ts';
import type { TokenIssuer } from './token-issuer.ts';

export interface ArmRoutesOptions {
  store: CloudStore;
  tokens: TokenIssuer;
  subscriptionId: string;
  regions: string[];
  pageSize: number;
  disconnectAfterMs: number;
  now: () => Date;
}

/** Tokens for ARM name it with or without the trailing slash (Entra issues both forms). */
export const ARM_AUDIENCES = [ARM_ENDPOINT, `${ARM_ENDPOINT}/`];

const Machine = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String(),
    location: Type.String(),
    tags: Type.Record(Type.String(), Type.String()),
    identity: Type.Object({ type: Type.String(), principalId: Type.String(), tenantId: Type.String() }),
    properties: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: true },
);

const MachineBody = Type.Object(
  {
    location: Type.String({ minLength: 1 }),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
    identity: Type.Optional(Type.Object({ type: Type.String() }, { additionalProperties: true })),
    properties: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

const MachineList = Type.Object({ value: Type.Array(Machine), nextLink: Type.Optional(Type.String()) });

export const Query = Type.Object(
  { 'api-version': Type.Optional(Type.String()), $skiptoken: Type.Optional(Type.String()) },
  { additionalProperties: true },
);
export const SubParams = Type.Object({ subscriptionId: Type.String() });
export const GroupParams = Type.Object({ subscriptionId: Type.String(), resourceGroup: Type.String() });
const MachineParams = Type.Object({
  subscriptionId: Type.String(),
  resourceGroup: Type.String(),
  name: Type.String(),
});

export const armErrors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
  412: ErrorBodySchema,
};

export const MACHINES = '/providers/Microsoft.HybridCompute/machines';
export const GROUP = '/subscriptions/:subscriptionId/resourceGroups/:resourceGroup';

/**
 * ARM's preamble for every request of a resource type, in ARM's order: who are you, then which API,
 * then which subscription. Also the request and correlation ids ARM puts on every answer.
 */
export function armOnRequest(
  opts: { tokens: TokenIssuer; subscriptionId: string; now: () => Date },
  versions: readonly string[],
  type: string,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const correlation = request.headers['x-ms-correlation-request-id'];
    void reply
      .header('x-ms-request-id', randomUUID())
      .header('x-ms-correlation-request-id', typeof correlation === 'string' ? correlation : randomUUID());
    await requireBearer(request, opts.tokens, ARM_AUDIENCES, opts.now());
    checkApiVersion((request.query as Static<typeof Query>)['api-version'], versions, type);
    const { subscriptionId } = request.params as Partial<Static<typeof SubParams>>;
    if (subscriptionId !== undefined && subscriptionId.toLowerCase() !== opts.subscriptionId.toLowerCase())
      throw new CloudError(
        'SubscriptionNotFound',
        `The subscription '${subscriptionId}' could not be found.`,
      );
  };
}

/** ARM's error contract: `{"error":{"code","message"}}`, the Bearer challenge on 401s, 500s logged. */
export function armErrorHandler(tokens: TokenIssuer) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const e = toCloudError(err);
    if (e.status >= 500) request.log.error({ err }, 'ARM request failed');
    setChallenge(reply, tokens.tenantId, e);
    return reply.code(e.status).send(e.toJSON());
  };
}

/** The next page's link: the same URL with $skiptoken moved on. */
/**
 * One page of an ARM list (`$skiptoken` is the offset), and `nextLink`, the same URL with the next
 * offset, when there is more.
 */
export function armPage<R, V>(
  request: FastifyRequest,
  pageSize: number,
  rows: (offset: number, limit: number) => R[],
  render: (row: R) => V,
): { value: V[]; nextLink?: string } {
  const query = request.query as Static<typeof Query>;
  const offset = Math.max(0, Number.parseInt(query.$skiptoken ?? '0', 10) || 0);
  const found = rows(offset, pageSize + 1);
  const value = found.slice(0, pageSize).map(render);
  if (found.length <= pageSize) return { value };
  const next = new URL(request.url, `https://${request.host}`);
  next.searchParams.set('$skiptoken', String(offset + pageSize));
  return { value, nextLink: next.toString() };
}

export const armRoutes: FastifyPluginCallbackTypebox<ArmRoutesOptions> = (app, opts, done) => {
  const { store, tokens, now } = opts;

  const view = (m: MachineRecord) => {
    const { status, since } = machineStatus(connectionFacts(m, store.latestCertificate(m.key)), now(), {
      disconnectAfterMs: opts.disconnectAfterMs,
    });
    return renderMachine(m, { status, lastStatusChange: since }, tokens.tenantId);
  };

  app.addHook('onRequest', armOnRequest(opts, MACHINE_API_VERSIONS, 'machines'));
  app.setErrorHandler(armErrorHandler(tokens));

  const page = (request: FastifyRequest, resourceGroup?: string) =>
    armPage(
      request,
      opts.pageSize,
      (offset, limit) =>
        store.listMachines({
          subscriptionId: opts.subscriptionId,
          ...(resourceGroup !== undefined ? { resourceGroup } : {}),
          offset,
          limit,
        }),
      view,
    );

  app.get(
    `/subscriptions/:subscriptionId${MACHINES}`,
    { schema: { params: SubParams, querystring: Query, response: { 200: MachineList, ...armErrors } } },
    (request, reply) => {
      void reply.send(page(request));
    },
  );

  app.get(
    `${GROUP}${MACHINES}`,
    { schema: { params: GroupParams, querystring: Query, response: { 200: MachineList, ...armErrors } } },
    (request, reply) => {
      const { resourceGroup } = request.params;
      checkNames(resourceGroup);
      void reply.send(page(request, resourceGroup));
    },
  );

  const found = (p: Static<typeof MachineParams>) => {
    checkNames(p.resourceGroup, p.name);
    const m = store.getMachine(machineKey(machineResourceId(p.subscriptionId, p.resourceGroup, p.name)));
    if (!m)
      throw new CloudError(
        'ResourceNotFound',
        `The Resource 'Microsoft.HybridCompute/machines/${p.name}' under resource group '${p.resourceGroup}' was not found.`,
      );
    return m;
  };

  app.get(
    `${GROUP}${MACHINES}/:name`,
    { schema: { params: MachineParams, querystring: Query, response: { 200: Machine, ...armErrors } } },
    (request, reply) => {
      void reply.send(view(found(request.params)));
    },
  );

  app.put(
    `${GROUP}${MACHINES}/:name`,
    {
      schema: {
        params: MachineParams,
        querystring: Query,
        body: MachineBody,
        response: { 200: Machine, 201: Machine, ...armErrors },
      },
    },
    async (request, reply) => {
      const p = request.params;
      const { body } = request;
      checkNames(p.resourceGroup, p.name);
      const location = normalizeLocation(body.location);
      if (!opts.regions.includes(location))
        throw new CloudError(
          'LocationNotAvailableForResourceType',
          `The provided location '${body.location}' is not available for resource type 'Microsoft.HybridCompute/machines'. List of available regions for the resource type is '${opts.regions.join(',')}'.`,
        );
      const id = machineResourceId(opts.subscriptionId, p.resourceGroup, p.name);
      const at = now().toISOString();
      const saved = store.transaction(() => {
        const existing = store.getMachine(machineKey(id));
        if (existing && request.headers['if-none-match'] === '*')
          throw new CloudError(
            'PreconditionFailed',
            `The resource '${existing.resourceId}' already exists (If-None-Match: *).`,
          );
        if (existing && existing.location !== location)
          throw new CloudError(
            'InvalidResourceLocation',
            `The resource '${p.name}' already exists in location '${existing.location}' in resource group '${p.resourceGroup}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
          );
        const machine: MachineRecord = existing
          ? {
              ...existing,
              tags: body.tags ?? existing.tags,
              properties: clientProperties(body.properties as Record<string, unknown> | undefined),
              updatedAt: at,
            }
          : {
              key: machineKey(id),
              resourceId: id,
              subscriptionId: opts.subscriptionId,
              resourceGroup: p.resourceGroup,
              name: p.name,
              location,
              tags: body.tags ?? {},
              properties: clientProperties(body.properties as Record<string, unknown> | undefined),
              vmId: randomUUID(),
              principalId: randomUUID(),
              clientId: randomUUID(),
              createdAt: at,
              updatedAt: at,
            };
        store.putMachine(machine);
        return { machine, created: !existing };
      });
      request.log.info({ resourceId: id, created: saved.created }, 'machine resource saved');
      return reply.code(saved.created ? 201 : 200).send(view(saved.machine));
    },
  );

  app.delete(
    `${GROUP}${MACHINES}/:name`,
    {
      schema: {
        params: MachineParams,
        querystring: Query,
        // 200 and 204 carry no body, as ARM's; only the refusals have one.
        response: { 200: Type.Unknown({ description: 'no body' }), 204: Type.Unknown(), ...armErrors },
      },
    },
    async (request, reply) => {
      const p = request.params;
      checkNames(p.resourceGroup, p.name);
      const id = machineResourceId(opts.subscriptionId, p.resourceGroup, p.name);
      const deleted = store.deleteMachine(machineKey(id), now().toISOString());
      request.log.info({ resourceId: id, deleted }, 'machine resource delete');
      return reply.code(deleted ? 200 : 204).send(undefined);
    },
  );
  done();
};

// HIMDS as a fastify app, built apart from listen() so tests can inject() (STYLE.md 8): the
// managed-identity token route with its key-file challenge, and the instance metadata routes. Every
// answer, errors and unknown routes included, is JSON in the IMDS shape; every request must carry
// `Metadata: true` and must not have come through a proxy (request-headers.ts).
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { AgentError, type HomeLayout, type Logger } from '../../core/index.ts';
import { checkApiVersion } from './api-version.ts';
import { checkRequestHeaders } from './request-headers.ts';
import { basicCredentials, createChallengeStore, realmHeader } from './challenge.ts';
import { errorBody, himdsError } from './error-body.ts';
import { identityNotFound, matchSelector, selectorOf, type KnownIdentity } from './identity-selector.ts';
import { createInstanceSource } from './instance-source.ts';
import { createStateReader, requireConnected } from './machine-state.ts';
import type { MachineMetadata } from './metadata.ts';
import { createJsonMemo, JSON_TYPE } from './json-memo.ts';
import {
  ComputeSchema,
  errorResponses,
  InstanceSchema,
  MetadataQuery,
  TokenAnswer,
  TokenQuery,
} from './schemas.ts';
import { tokenAnswer } from './token-answer.ts';
import { createTokenCache } from './token-cache.ts';
import { cloudTokenSource, type TokenSource, type UpstreamToken } from './token-source.ts';
import { HIMDS_GROUP, lookupGroupId } from './tokens-dir.ts';

export const TOKEN_PATH = '/metadata/identity/oauth2/token';

/** The 401 bodies, serialized once: they are the same for every challenge. */
const CHALLENGE_BODY = {
  HIMDS_CHALLENGE: JSON.stringify(errorBody(new AgentError('HIMDS_CHALLENGE'))),
  HIMDS_CHALLENGE_FAILED: JSON.stringify(errorBody(new AgentError('HIMDS_CHALLENGE_FAILED'))),
};
export const DEFAULT_ARC_PROXY_URL = 'http://127.0.0.1:40343';

export interface HimdsAppOptions {
  home: HomeLayout;
  log: Logger;
  /** Where tokens come from; default: the cloud, through the Arc Proxy, with the machine identity. */
  tokenSource?: TokenSource;
  /** The Arc Proxy, for the default token source. */
  proxyUrl?: string;
  /** The challenge folder; default <home>/tokens. Real clients only accept /var/opt/azcmagent/tokens. */
  tokensDir?: string;
  /** Group whose members may read challenges (`himds`), looked up in `groupFile` (/etc/group). */
  group?: string;
  groupFile?: string;
  /** How long an unanswered challenge stays valid (60 s). */
  challengeTtlMs?: number;
  maxOutstandingChallenges?: number;
  /** What the OS says about the machine, for the metadata routes (collectMetadata). */
  collectMetadata?: () => Promise<MachineMetadata>;
  /** How long agentconfig.json is trusted before it is read again (1 s). */
  stateMaxAgeMs?: number;
  now?: () => Date;
}

type TokenQueryT = Static<typeof TokenQuery>;
type MetadataQueryT = Static<typeof MetadataQuery>;

/** Refuses a request by its headers; a route hook, so it runs before the query is validated. */
function checkHeaders(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  done(checkRequestHeaders(request.headers));
}

export function buildHimdsApp(opts: HimdsAppOptions): FastifyInstance {
  const { home, log } = opts;
  const now = opts.now ?? (() => new Date());
  const seconds = () => Math.floor(now().getTime() / 1000);
  const source =
    opts.tokenSource ?? cloudTokenSource({ home, proxyUrl: opts.proxyUrl ?? DEFAULT_ARC_PROXY_URL, now });
  const tokens = createTokenCache({ source, log, now });
  const machine = createStateReader({ path: home.agentConfig, now, maxAgeMs: opts.stateMaxAgeMs });
  const instance = createInstanceSource({ collect: opts.collectMetadata, now });
  // Known once a token names them; the resource id is always known from agentconfig.json.
  const learned: { clientId?: string | undefined; objectId?: string | undefined } = {};
  let challenges: ReturnType<typeof createChallengeStore> | undefined;

  const app = Fastify({ logger: false, return503OnClosing: true });
  // The JSON of each answer, made once: by the routes' own serializers (so the bytes are what they
  // would be), kept for as long as the document or the token and its second stay the same.
  const tokenJson = createJsonMemo<UpstreamToken>();
  const metadataJson = createJsonMemo<object>();

  app.addHook('onReady', async () => {
    const gid = await lookupGroupId(opts.group ?? HIMDS_GROUP, opts.groupFile);
    challenges = createChallengeStore({
      dir: opts.tokensDir ?? home.tokens,
      gid,
      log,
      now,
      ttlMs: opts.challengeTtlMs,
      maxOutstanding: opts.maxOutstandingChallenges,
    });
    await challenges.start();
  });
  app.addHook('onClose', async () => {
    challenges?.close();
    await source.close?.();
  });

  app.setErrorHandler((err, request, reply) => {
    const e =
      (err as { validation?: unknown }).validation !== undefined
        ? new AgentError('HIMDS_BAD_REQUEST', (err as Error).message)
        : himdsError(err);
    if (e.code === 'INTERNAL') log.error({ err, url: request.url }, 'HIMDS request failed');
    else log.debug({ code: e.code, url: request.url }, 'HIMDS request refused');
    return reply.code(e.status).send(errorBody(e));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody(new AgentError('HIMDS_NOT_FOUND', `${request.method} ${request.url.split('?')[0]}`))),
  );

  app.get<{ Querystring: MetadataQueryT }>(
    '/metadata/instance',
    {
      schema: { querystring: MetadataQuery, response: { 200: InstanceSchema, ...errorResponses } },
      onRequest: checkHeaders,
    },
    async (request, reply) =>
      sendMemo(reply, await instance.instance(await connectedForMetadata(request.query))),
  );
  app.get<{ Querystring: MetadataQueryT }>(
    '/metadata/instance/compute',
    {
      schema: { querystring: MetadataQuery, response: { 200: ComputeSchema, ...errorResponses } },
      onRequest: checkHeaders,
    },
    async (request, reply) =>
      sendMemo(reply, await instance.compute(await connectedForMetadata(request.query))),
  );

  function sendMemo(reply: FastifyReply, doc: object) {
    const json = metadataJson(doc, '', () => serialize200(reply, doc));
    return reply.type(JSON_TYPE).send(json);
  }

  /** Metadata needs a connected machine, not a valid identity: an expired one still has its metadata. */
  async function connectedForMetadata(query: MetadataQueryT) {
    refuse(checkApiVersion(query['api-version']));
    if (query.format !== undefined && query.format !== 'json')
      throw new AgentError(
        'HIMDS_BAD_REQUEST',
        `format=${query.format.slice(0, 20)}: only json is offered here`,
      );
    const status = await machine.status();
    if (status.kind === 'expired') return status.state;
    return requireConnected(status);
  }

  app.get<{ Querystring: TokenQueryT }>(
    TOKEN_PATH,
    {
      schema: { querystring: TokenQuery, response: { 200: TokenAnswer, ...errorResponses } },
      onRequest: checkHeaders,
    },
    async (request, reply) => {
      const query = request.query;
      refuse(checkApiVersion(query['api-version']));
      const resource = query.resource;
      if (!resource) throw new AgentError('HIMDS_BAD_REQUEST', 'the resource parameter is required');
      const selector = selectorOf(query);
      const state = requireConnected(await machine.status());
      const known: KnownIdentity = { resourceId: state.resourceId, ...learned };
      if (selector && matchSelector(selector, known) === 'mismatch') throw identityNotFound(selector);

      const secret = basicCredentials(request.headers.authorization);
      if (secret === undefined || !challenges!.redeem(secret))
        return challenge(reply, secret === undefined ? 'HIMDS_CHALLENGE' : 'HIMDS_CHALLENGE_FAILED');

      const bypassCache = query.bypass_cache?.toLowerCase() === 'true';
      const { token, cached } = await tokens.get({ resource, state, bypassCache });
      learned.clientId = token.clientId ?? learned.clientId;
      learned.objectId = token.objectId ?? learned.objectId;
      if (selector && matchSelector(selector, { ...known, ...learned }) !== 'match')
        throw identityNotFound(selector);
      log.debug({ resource, cached, apiVersion: query['api-version'] }, 'token served');
      const at = seconds();
      const key = selector
        ? `${at}\n${resource}\n${selector.param}\n${selector.value}`
        : `${at}\n${resource}`;
      const json = tokenJson(token, key, () =>
        serialize200(reply, tokenAnswer(token, resource, at, selector)),
      );
      return reply.type(JSON_TYPE).send(json);
    },
  );

  /**
   * 401 with a new challenge (RFC 9110 section 11.6.1: a 401 carries WWW-Authenticate). The header
   * is spelled `Www-Authenticate`, as the real HIMDS (Go) spells it: field scripts find it with a
   * case-sensitive `grep Www-Authenticate`, and Python's requests keeps the spelling in items().
   */
  async function challenge(reply: FastifyReply, code: 'HIMDS_CHALLENGE' | 'HIMDS_CHALLENGE_FAILED') {
    const path = await challenges!.issue();
    if (code === 'HIMDS_CHALLENGE_FAILED') log.info('a token request sent a wrong, used or expired secret');
    log.debug({ path }, 'challenge issued');
    reply.raw.setHeader('Www-Authenticate', realmHeader(path));
    return reply.code(401).type(JSON_TYPE).send(CHALLENGE_BODY[code]);
  }

  return app;
}

/** The route's own serializer for its 200 answer (fast-json-stringify, from the response schema). */
function serialize200(reply: FastifyReply, body: object): string {
  return reply.getSerializationFunction('200')!(body as { [key: string]: unknown });
}

function refuse(err: AgentError | undefined): void {
  if (err) throw err;
}

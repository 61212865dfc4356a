// HIMDS as a fastify app, built apart from listen() so tests can inject() (STYLE.md 8): the
// managed-identity token route with its key-file challenge, and the instance metadata routes. Every
// answer, errors and unknown routes included, is JSON in the IMDS shape; every request must carry
// `Metadata: true` and must not have come through a proxy (request-headers.ts).
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { AgentError, type AgentState, type HomeLayout, type Logger } from '../../core/index.ts';
import { checkApiVersion } from './api-version.ts';
import { msClock } from './clock.ts';
import { checkRequestHeaders } from './request-headers.ts';
import { basicCredentials, createChallengeStore, realmHeader } from './challenge.ts';
import { errorBody, himdsError } from './error-body.ts';
import { identityNotFound, matchSelector, selectorOf, type Selector } from './identity-selector.ts';
import { createInstanceSource } from './instance-source.ts';
import { createStateReader, requireConnected, type MachineStatus } from './machine-state.ts';
import type { Instance } from './instance-metadata.ts';
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
  const nowMs = msClock(opts.now);
  const seconds = () => Math.floor(nowMs() / 1000);
  // The parts get the test's clock only when there is one, else read the time their own way (clock.ts).
  const clock = opts.now ? { now: opts.now } : {};
  const source =
    opts.tokenSource ??
    cloudTokenSource({ home, proxyUrl: opts.proxyUrl ?? DEFAULT_ARC_PROXY_URL, ...clock });
  const tokens = createTokenCache({ source, log, ...clock });
  const machine = createStateReader({ path: home.agentConfig, ...clock, maxAgeMs: opts.stateMaxAgeMs });
  const instance = createInstanceSource({ collect: opts.collectMetadata, ...clock });
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
      ...clock,
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

  // As in the token route below: a document already built for the current state is sent at once.
  const metadataRoute =
    (pick: (doc: Instance) => object) =>
    (request: FastifyRequest<{ Querystring: MetadataQueryT }>, reply: FastifyReply) => {
      checkMetadataQuery(request.query);
      const status = machine.peek();
      const doc = status && instance.peek(metadataState(status));
      if (doc) return sendMemo(reply, pick(doc));
      return (status ? Promise.resolve(status) : machine.status())
        .then((s) => instance.instance(metadataState(s)))
        .then((d) => sendMemo(reply, pick(d)));
    };
  app.get<{ Querystring: MetadataQueryT }>(
    '/metadata/instance',
    {
      schema: { querystring: MetadataQuery, response: { 200: InstanceSchema, ...errorResponses } },
      onRequest: checkHeaders,
    },
    metadataRoute((doc) => doc),
  );
  app.get<{ Querystring: MetadataQueryT }>(
    '/metadata/instance/compute',
    {
      schema: { querystring: MetadataQuery, response: { 200: ComputeSchema, ...errorResponses } },
      onRequest: checkHeaders,
    },
    metadataRoute((doc) => doc.compute),
  );

  function sendMemo(reply: FastifyReply, doc: object): undefined {
    const json = metadataJson(doc, 0, '', () => serialize200(reply, doc));
    reply.type(JSON_TYPE).send(json);
    return undefined;
  }

  function checkMetadataQuery(query: MetadataQueryT): void {
    refuse(checkApiVersion(query['api-version']));
    if (query.format !== undefined && query.format !== 'json')
      throw new AgentError(
        'HIMDS_BAD_REQUEST',
        `format=${query.format.slice(0, 20)}: only json is offered here`,
      );
  }

  /** Metadata needs a connected machine, not a valid identity: an expired one still has its metadata. */
  function metadataState(status: MachineStatus): AgentState {
    return status.kind === 'expired' ? status.state : requireConnected(status);
  }

  // The token route answers a request whose secret is good and whose token is cached within the
  // step of the event loop it arrived in: no promise is made on that path (it is every request but
  // one per second and per token refresh). Anything that has to wait (the state file read, a
  // challenge's file, a token from the cloud) goes on in a promise, which fastify awaits.
  app.get<{ Querystring: TokenQueryT }>(
    TOKEN_PATH,
    {
      schema: { querystring: TokenQuery, response: { 200: TokenAnswer, ...errorResponses } },
      onRequest: checkHeaders,
    },
    (request, reply) => {
      const query = request.query;
      refuse(checkApiVersion(query['api-version']));
      if (!query.resource) throw new AgentError('HIMDS_BAD_REQUEST', 'the resource parameter is required');
      const ask: TokenAsk = { query, resource: query.resource, selector: selectorOf(query), reply };
      const status = machine.peek();
      return status ? answerToken(ask, status) : machine.status().then((s) => answerToken(ask, s));
    },
  );

  interface TokenAsk {
    query: TokenQueryT;
    resource: string;
    selector: Selector | undefined;
    reply: FastifyReply;
  }

  /** The rest of a token request once the machine's status is known; a promise when it has to wait. */
  function answerToken(ask: TokenAsk, status: MachineStatus): Promise<void> | undefined {
    const { query, resource, selector, reply } = ask;
    const state = requireConnected(status);
    if (selector && matchSelector(selector, { resourceId: state.resourceId, ...learned }) === 'mismatch')
      throw identityNotFound(selector);

    const secret = basicCredentials(reply.request.headers.authorization);
    if (secret === undefined || !challenges!.redeem(secret))
      return challenge(reply, secret === undefined ? 'HIMDS_CHALLENGE' : 'HIMDS_CHALLENGE_FAILED');

    const bypassCache = query.bypass_cache?.toLowerCase() === 'true';
    const cached = bypassCache ? undefined : tokens.peek({ resource, state });
    if (cached) return sendToken(ask, state, cached, true);
    return tokens
      .get({ resource, state, bypassCache })
      .then(({ token, cached }) => sendToken(ask, state, token, cached));
  }

  function sendToken(
    { query, resource, selector, reply }: TokenAsk,
    state: AgentState,
    token: UpstreamToken,
    cached: boolean,
  ): undefined {
    learned.clientId = token.clientId ?? learned.clientId;
    learned.objectId = token.objectId ?? learned.objectId;
    if (selector && matchSelector(selector, { resourceId: state.resourceId, ...learned }) !== 'match')
      throw identityNotFound(selector);
    log.debug({ resource, cached, apiVersion: query['api-version'] }, 'token served');
    const at = seconds();
    const key = selector ? `${resource}\n${selector.param}\n${selector.value}` : resource;
    const json = tokenJson(token, at, key, () =>
      serialize200(reply, tokenAnswer(token, resource, at, selector)),
    );
    reply.type(JSON_TYPE).send(json);
    return undefined;
  }

  /**
   * 401 with a new challenge (RFC 9110 section 11.6.1: a 401 carries WWW-Authenticate). The header
   * is spelled `Www-Authenticate`, as the real HIMDS (Go) spells it: field scripts find it with a
   * case-sensitive `grep Www-Authenticate`, and Python's requests keeps the spelling in items().
   */
  async function challenge(
    reply: FastifyReply,
    code: 'HIMDS_CHALLENGE' | 'HIMDS_CHALLENGE_FAILED',
  ): Promise<void> {
    const path = await challenges!.issue();
    if (code === 'HIMDS_CHALLENGE_FAILED') log.info('a token request sent a wrong, used or expired secret');
    log.debug({ path }, 'challenge issued');
    reply.raw.setHeader('Www-Authenticate', realmHeader(path));
    reply.code(401).type(JSON_TYPE).send(CHALLENGE_BODY[code]);
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

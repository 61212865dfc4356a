// A server for the HIMDS benchmark in its own process, printing `port N` once listening and exiting
// when its stdin closes or on SIGTERM (HIMDS stopping first, which removes its challenge files):
//   himds DIR [TOKENS]  HIMDS itself (schemas, header checks, agentconfig.json, the key-file challenge with a
//              file per challenge, the token cache), home DIR/home (challenges in TOKENS if given), an in-process token source that
//              signs one 24-hour JWT (so every token request after the first is a cache hit);
//              BENCH_HIMDS_MAX_OUTSTANDING and BENCH_HIMDS_CHALLENGE_TTL_MS, when set, make room for the
//              challenges that bench/himds.ts issues ahead of its cached-token load;
//   bare DIR   the baseline: a bare fastify app answering the same JSON bodies (DIR/compute.json,
//              DIR/token.json) on the same paths; its token route answers 401 with a realm naming one
//              fixed key file (DIR/bare.key) when there is no Authorization, else 200.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify from 'fastify';
import { SignJWT, generateKeyPair } from 'jose';
import { pino } from 'pino';
import { createLogger, resolveHome } from '../core/index.ts';
import { collectMetadata } from '../services/himds/server.ts';
import { startHimds, type TokenSource } from '../services/himds/server.ts';

const [kind, dir = '', tokensDir] = process.argv.slice(2);
const TOKEN_PATH = '/metadata/identity/oauth2/token';

/** Run before exiting: HIMDS removes its challenge files, so that the next one starts on an empty folder. */
let stop = async () => {};

async function himds(): Promise<number> {
  const home = resolveHome(join(dir, 'home'), {});
  const log = createLogger({
    name: 'himds',
    level: 'info',
    destination: pino.destination(join(dir, 'himds.log')),
  });
  const { privateKey } = await generateKeyPair('RS256');
  const tokenSource: TokenSource = {
    async getToken({ resource }) {
      const iat = Math.floor(Date.now() / 1000);
      const accessToken = await new SignJWT({ oid: 'bench' })
        .setProtectedHeader({ alg: 'RS256' })
        .setAudience(resource)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 86_400)
        .sign(privateKey);
      return {
        accessToken,
        expiresOn: iat + 86_400,
        notBefore: iat,
        tokenType: 'Bearer',
        clientId: 'bench-client',
      };
    },
  };
  const int = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const maxOutstandingChallenges = int('BENCH_HIMDS_MAX_OUTSTANDING');
  const challengeTtlMs = int('BENCH_HIMDS_CHALLENGE_TTL_MS');
  const service = await startHimds({
    home,
    ...(maxOutstandingChallenges ? { maxOutstandingChallenges } : {}),
    ...(challengeTtlMs ? { challengeTtlMs } : {}),
    log,
    port: 0,
    tokenSource,
    collectMetadata,
    ...(tokensDir ? { tokensDir } : {}),
  });
  stop = () => service.stop();
  return service.address.port;
}

async function bare(): Promise<number> {
  const [compute, token] = await Promise.all(
    ['compute.json', 'token.json'].map(
      async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as object,
    ),
  );
  const challenge = {
    error: 'unauthorized_client',
    error_description: 'the key-file challenge must be answered',
  };
  const app = Fastify({ logger: false });
  app.get('/metadata/instance/compute', () => compute);
  app.get(TOKEN_PATH, async (request, reply) => {
    if (request.headers.authorization) return token;
    reply.raw.setHeader('Www-Authenticate', `Basic realm=${join(dir, 'bare.key')}`);
    return reply.code(401).send(challenge);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

const port = kind === 'himds' ? await himds() : kind === 'bare' ? await bare() : NaN;
if (Number.isNaN(port)) {
  process.stderr.write('usage: himds-server.ts himds|bare DIR\n');
  process.exit(2);
}
process.stdout.write(`port ${port}\n`);
const exit = () => void stop().finally(() => process.exit(0));
process.stdin.on('close', exit);
process.on('SIGTERM', exit);
process.stdin.resume();

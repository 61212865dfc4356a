// The local cloud's HTTPS app: one port for every host name of the profile, told apart by path.
// Built here, listened on by server.ts (tests use inject() or listen on port 0). The TLS layer asks
// for client certificates but does not require them; the identity service's machine routes check them.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { Type } from 'typebox';
import type { Logger } from '../core/index.ts';
import { armRoutes, type ArmRoutesOptions } from './arm-routes.ts';
import { CloudError } from './errors.ts';
import { gatewayArmRoutes, type GatewayArmRoutesOptions } from './gateway-arm-routes.ts';
import { identityRoutes, type IdentityRoutesOptions } from './identity-routes.ts';
import { loginRoutes, type LoginRoutesOptions } from './login-routes.ts';
import { ARM_ENDPOINT, LOCAL_HOSTS } from './profile.ts';

export interface BuildAppOptions {
  log: Logger;
  tls: { keyPem: string; certPem: string; caPem: string };
  login: LoginRoutesOptions;
  arm: ArmRoutesOptions;
  /** ARM for gateways and settings/default (default: the machine routes' options). */
  gatewayArm?: GatewayArmRoutesOptions;
  identity: IdentityRoutesOptions;
}

export type CloudApp = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>;

export function buildApp(opts: BuildAppOptions): CloudApp {
  const app = Fastify({
    loggerInstance: opts.log,
    https: {
      key: opts.tls.keyPem,
      cert: opts.tls.certPem,
      // Names our CA in the CertificateRequest, so that clients offer the machine certificate.
      ca: opts.tls.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    bodyLimit: 1024 * 1024,
    requestTimeout: 30_000,
    return503OnClosing: true,
    genReqId: () => randomUUID(),
  });

  app.get(
    '/',
    {
      schema: {
        response: {
          200: Type.Object({
            service: Type.String(),
            hosts: Type.Record(Type.String(), Type.String()),
            arm: Type.String(),
          }),
        },
      },
    },
    (_request, reply) => {
      void reply.send({ service: 'arc-local-cloud', hosts: { ...LOCAL_HOSTS }, arm: ARM_ENDPOINT });
    },
  );

  // ARM tolerates `content-type: application/json` with no body (clients send it on GET and
  // DELETE); fastify's default parser refuses that, so an empty JSON body reads as no body here.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else void json(request, body as string, done);
  });

  app.setNotFoundHandler({}, (request, reply) => {
    const e = new CloudError('NotFound', `No route for ${request.method} ${request.url.split('?')[0]}.`);
    return reply.code(404).send(e.toJSON());
  });

  void app.register(loginRoutes, opts.login);
  void app.register(armRoutes, opts.arm);
  void app.register(gatewayArmRoutes, opts.gatewayArm ?? opts.arm);
  void app.register(identityRoutes, opts.identity);
  return app;
}

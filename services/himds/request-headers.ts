// The two header rules every HIMDS request meets before anything else, as Azure IMDS has them
// (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service, "Security and
// authentication"): `Metadata: true` must be present, which a browser cannot be tricked into
// sending (server-side request forgery), and a request that carries X-Forwarded-For came through a
// proxy, so it is not from a local process and is refused.
import type { IncomingHttpHeaders } from 'node:http';
import { AgentError } from '../../core/index.ts';

/** undefined when the request may go on, else the refusal to answer with. */
export function checkRequestHeaders(headers: IncomingHttpHeaders): AgentError | undefined {
  if (headers['x-forwarded-for'] !== undefined) return new AgentError('HIMDS_FORWARDED');
  const metadata = headers['metadata'];
  if (typeof metadata !== 'string' || metadata.trim().toLowerCase() !== 'true')
    return new AgentError('HIMDS_METADATA_HEADER');
  return undefined;
}

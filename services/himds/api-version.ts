// Which `api-version` values HIMDS accepts: the ones Azure SDK clients send to Arc (2019-08-15 by
// older azidentity Go, 2019-11-01 by the docs and older MSAL/Azure.Identity, 2020-06-01 by current
// clients) and any later IMDS version, so that a newer client is not turned away
// (../shared/reference/himds-identity.md sections 1.2 and 2).
import { AgentError } from '../../core/index.ts';

/** The oldest version clients send to Arc; IMDS versions from this date on are accepted. */
export const OLDEST_API_VERSION = '2019-08-15';
export const SUPPORTED_API_VERSIONS = ['2019-08-15', '2019-11-01', '2020-06-01'] as const;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** What clients send, accepted without parsing the date on every request. */
const KNOWN = new Set<string>(SUPPORTED_API_VERSIONS);

/** undefined when `version` is acceptable, else the refusal to answer with. */
export function checkApiVersion(version: string | undefined): AgentError | undefined {
  if (version !== undefined && KNOWN.has(version)) return undefined;
  if (version === undefined || version === '')
    return new AgentError('HIMDS_API_VERSION', 'api-version was not specified in the request');
  const m = DATE.exec(version);
  const valid =
    m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) >= 1 && Number(m[3]) <= 31;
  // ISO dates compare correctly as strings.
  if (!valid || version < OLDEST_API_VERSION)
    return new AgentError(
      'HIMDS_API_VERSION',
      `${JSON.stringify(version.slice(0, 40))}; supported are ${SUPPORTED_API_VERSIONS.join(', ')} and later IMDS versions`,
    );
  return undefined;
}

// Which endpoints a check probes, a pure function of the cloud profile's data: its check list with
// `{region}` and `{regionCode}` filled in, the extension endpoints asked for, and the Arc gateway
// when one is in use. An endpoint whose placeholder cannot be filled is planned as skipped, with why.
import { AgentError, checkEndpointsOf, type CheckEndpoint, type CloudProfile } from '../../core/index.ts';

export interface PlannedEndpoint {
  url: string;
  host: string;
  port: number;
  /** Path and query of the probe request. */
  path: string;
  purpose: string;
  required: boolean;
  extension: string | undefined;
  privateLink: boolean;
  onboarding: boolean;
  /** Why it is not probed; undefined when it is. */
  skip: string | undefined;
}

export interface PlanOptions {
  /** Region name (lower case); undefined when neither --location nor a connection gives one. */
  region: string | undefined;
  /** `--extensions`: `all`, or names such as `sql`; empty for none. */
  extensions: readonly string[];
  /** The Arc gateway's URL when the gateway is in use: it is probed too, and required. */
  gatewayUrl?: string | undefined;
  /** Only what `connect` calls (its pre-check). */
  onboardingOnly?: boolean;
}

export function planEndpoints(cloud: CloudProfile, opts: PlanOptions): PlannedEndpoint[] {
  const all = checkEndpointsOf(cloud);
  const known = [...new Set(all.flatMap((e) => (e.extension ? [e.extension] : [])))];
  const unknown = opts.extensions.filter((x) => x !== 'all' && !known.includes(x));
  if (unknown.length > 0)
    throw new AgentError(
      'ARGUMENT_INVALID',
      `--extensions ${unknown.join(',')}: ${cloud.name} knows ${['all', ...known].join(', ')}`,
    );
  const wanted = (ext: string | undefined) =>
    ext === undefined || opts.extensions.includes('all') || opts.extensions.includes(ext);
  const planned = all
    .filter((e) => wanted(e.extension) && (!opts.onboardingOnly || e.onboarding === true))
    .map((e) => {
      const { url, skip } = fill(e.url, cloud, opts.region);
      return endpoint(url, e, skip);
    });
  if (opts.gatewayUrl)
    planned.push(
      endpoint(opts.gatewayUrl, { purpose: 'Arc gateway', need: 'required', onboarding: true }, undefined),
    );
  const seen = new Set<string>();
  return planned.filter((p) => !seen.has(p.url) && seen.add(p.url));
}

function fill(template: string, cloud: CloudProfile, region: string | undefined) {
  if (!template.includes('{')) return { url: template, skip: undefined };
  if (!region)
    return { url: template, skip: 'regional endpoint: give --location (the machine is not connected)' };
  const code = cloud.regionCodes?.[region];
  if (template.includes('{regionCode}') && !code)
    return {
      url: template.replaceAll('{region}', region),
      skip: `the short code of region ${region} in ${cloud.name} is not known; the global identity service names this host at connect`,
    };
  return {
    url: template.replaceAll('{regionCode}', code ?? '').replaceAll('{region}', region),
    skip: undefined,
  };
}

function endpoint(url: string, spec: Omit<CheckEndpoint, 'url'>, skip: string | undefined): PlannedEndpoint {
  let host = '';
  let port = 443;
  let path = '/';
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    port = Number(parsed.port) || 443;
    path = `${parsed.pathname}${parsed.search}`;
  } catch {
    skip ??= 'not a URL';
  }
  return {
    url,
    host,
    port,
    path,
    purpose: spec.purpose,
    required: spec.need === 'required',
    extension: spec.extension,
    privateLink: spec.privateLink === true,
    onboarding: spec.onboarding === true,
    skip,
  };
}

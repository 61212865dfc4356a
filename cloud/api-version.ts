// ARM's api-version rule: every request names one, and the resource type must support it.
// Codes as ARM answers them: missing, malformed, or well-formed but not registered.
import { CloudError } from './errors.ts';

/** What @azure/arm-hybridcompute 3.0.0 sends (2021-05-20), and two newer versions agents use. */
export const MACHINE_API_VERSIONS = ['2021-05-20', '2022-12-27', '2024-07-10'] as const;

const WELL_FORMED = /^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha|-privatepreview)?$/i;

/** What the gateway and settings/default API has been published as (az arcgateway, Update-AzArcSetting). */
export const GATEWAY_API_VERSIONS = [
  '2024-05-20-preview',
  '2024-07-31-preview',
  '2024-11-10-preview',
  '2025-01-13',
] as const;

export function checkApiVersion(
  value: string | undefined,
  supported: readonly string[] = MACHINE_API_VERSIONS,
  type = 'machines',
): void {
  const list = supported.map((v) => `'${v}'`).join(', ');
  if (value === undefined || value === '')
    throw new CloudError(
      'MissingApiVersionParameter',
      `The api-version query parameter (?api-version=) is required for all requests. The supported api-versions are ${list}.`,
    );
  if (!WELL_FORMED.test(value))
    throw new CloudError(
      'InvalidApiVersionParameter',
      `The api-version '${value}' is invalid. The supported versions are ${list}.`,
    );
  if (!supported.includes(value.toLowerCase()))
    throw new CloudError(
      'NoRegisteredProviderFound',
      `No registered resource provider found for API version '${value}' and type '${type}'. The supported api-versions are ${list}.`,
    );
}

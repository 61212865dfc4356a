// Every HIMDS refusal as the flat IMDS/OAuth JSON that clients parse
// ({"error": "...", "error_description": "..."}; ../shared/reference/himds-identity.md section 1.5):
// msal-node and MSAL .NET surface `error_description`, so it says what went wrong and what to do.
// The `error` values are IMDS's where IMDS has one (invalid_request, identity_not_found).
import { AgentError, isAgentError, type ErrorCode } from '../../core/index.ts';

export interface HimdsErrorBody {
  error: string;
  error_description: string;
}

const WIRE_ERROR: Partial<Record<ErrorCode, string>> = {
  HIMDS_BAD_REQUEST: 'invalid_request',
  HIMDS_METADATA_HEADER: 'invalid_request',
  HIMDS_FORWARDED: 'invalid_request',
  HIMDS_API_VERSION: 'invalid_request',
  HIMDS_NOT_FOUND: 'not_found',
  HIMDS_CHALLENGE: 'unauthorized_client',
  HIMDS_CHALLENGE_FAILED: 'unauthorized_client',
  HIMDS_TOO_MANY_CHALLENGES: 'too_many_requests',
  HIMDS_IDENTITY_NOT_FOUND: 'identity_not_found',
  HIMDS_NOT_CONNECTED: 'not_connected',
  HIMDS_IDENTITY_EXPIRED: 'identity_expired',
  HIMDS_TOKEN_UNAVAILABLE: 'token_unavailable',
};

/** The error as HIMDS answers it: any non-HIMDS error is an internal one, with no detail leaked. */
export function himdsError(err: unknown): AgentError {
  if (isAgentError(err) && err.code.startsWith('HIMDS_')) return err;
  return new AgentError('INTERNAL');
}

export function errorBody(err: AgentError): HimdsErrorBody {
  return {
    error: WIRE_ERROR[err.code] ?? 'server_error',
    error_description: `${err.message}. ${err.action}`,
  };
}

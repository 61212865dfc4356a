// The one registry of error codes: each has an AZCM exit code for the CLI, an HTTP status for the
// edge (the Arc Proxy's answers), a message and one line of what to do. Callers branch on `code`.
// Exit codes follow the real agent (../shared/reference/arc-cli-proxy-gateway.md section 3).

interface ErrorSpec {
  /** AZCM exit code of the CLI when this error ends a command. */
  exit: number;
  /** Status the Arc Proxy answers with when this error ends a client's request. */
  status: number;
  message: string;
  action: string;
}

const spec = (exit: number, status: number, message: string, action: string): ErrorSpec => ({
  exit,
  status,
  message,
  action,
});

export const errorRegistry = {
  // Arc Proxy: the client's side.
  ARCPROXY_BAD_REQUEST: spec(
    23,
    400,
    'malformed request',
    'send an HTTP/1.1 proxy request: CONNECT host:port, or an absolute-form URL',
  ),
  ARCPROXY_BAD_TARGET: spec(
    23,
    400,
    'malformed CONNECT target',
    'CONNECT takes host:port with a port from 1 to 65535, e.g. CONNECT example.com:443',
  ),
  ARCPROXY_HEADERS_TOO_LARGE: spec(
    23,
    431,
    'request headers are larger than the limit',
    'send smaller headers (cookies, tokens) or raise the header limit',
  ),
  ARCPROXY_HEADERS_TIMEOUT: spec(
    26,
    408,
    'request headers did not arrive in time',
    'the client must send the whole request head within the header timeout',
  ),
  ARCPROXY_TOO_MANY_CONNECTIONS: spec(
    26,
    503,
    'the Arc Proxy is at its connection limit',
    'retry later, or find the client that holds too many connections: azcmagent proxy stats',
  ),
  ARCPROXY_NOT_LOOPBACK: spec(
    26,
    403,
    'the Arc Proxy serves loopback clients only',
    'connect from this machine to 127.0.0.1',
  ),
  ARCPROXY_TUNNEL_IDLE: spec(
    26,
    504,
    'tunnel closed after being idle past the idle timeout',
    'keep the connection busy or reconnect; long-lived idle tunnels are closed on purpose',
  ),
  ARCPROXY_DENIED: spec(
    26,
    403,
    'destination is not in the endpoint allow-list',
    'if this destination is expected, allow it: azcmagent config set arcproxy.allowlist HOST:PORT --add',
  ),
  // Arc Proxy: the destination's side.
  ARCPROXY_UPSTREAM_REFUSED: spec(
    26,
    502,
    'the destination refused the connection',
    'check that the destination is up and listening on that port',
  ),
  ARCPROXY_UPSTREAM_RESET: spec(
    26,
    502,
    'the destination closed the connection unexpectedly',
    'check the destination; a firewall may be resetting connections',
  ),
  ARCPROXY_DNS_FAILURE: spec(
    26,
    502,
    'the destination name does not resolve',
    "check the name and this machine's DNS settings (/etc/resolv.conf)",
  ),
  ARCPROXY_UPSTREAM_TIMEOUT: spec(
    26,
    504,
    'the destination did not answer in time',
    'check routes and firewalls between this machine and the destination',
  ),
  ARCPROXY_UPSTREAM_PROXY_AUTH: spec(
    26,
    502,
    'the enterprise proxy wants credentials (407)',
    'put the credentials in the proxy URL: azcmagent config set proxy.url http://USER:PASSWORD@HOST:PORT',
  ),
  ARCPROXY_UPSTREAM_PROXY_REFUSED: spec(
    26,
    502,
    'the enterprise proxy refused the tunnel',
    "ask the proxy's administrator to allow this destination, or bypass the proxy for it",
  ),
  ARCPROXY_UPSTREAM_PROXY_UNREACHABLE: spec(
    26,
    502,
    'the enterprise proxy cannot be reached',
    'check proxy.url (azcmagent config get proxy.url) and that the proxy is up',
  ),
  ARCPROXY_UPSTREAM_TLS: spec(
    26,
    502,
    'TLS to the enterprise proxy failed',
    "check that the proxy's certificate is trusted by this machine",
  ),
  ARCPROXY_NOT_RUNNING: spec(
    4,
    503,
    'the Arc Proxy service is not running',
    'start it: azcmagent run --services arcproxy',
  ),
  // Configuration.
  CONFIG_INVALID: spec(
    23,
    400,
    'invalid configuration value',
    'see the allowed values: azcmagent config info',
  ),
  CONFIG_UNREADABLE: spec(
    70,
    500,
    'the local configuration file cannot be read',
    'fix or remove the file named in the message; a copy of the previous version is kept as .bak',
  ),
  CONFIG_WRITE_FAILED: spec(
    69,
    500,
    'the local configuration file cannot be written',
    'check permissions and free space in the agent home folder',
  ),
  CLOUD_UNKNOWN: spec(
    23,
    400,
    'unknown cloud',
    'use AzureCloud, AzureUSGovernment, AzureChinaCloud, or the path of a cloud profile file',
  ),
  CLOUD_PROFILE_INVALID: spec(
    75,
    500,
    'the cloud profile cannot be used',
    'check the cloud profile file named in the message',
  ),
  ARGUMENT_INVALID: spec(23, 400, 'invalid argument', "see the command's help: azcmagent COMMAND --help"),
  INTERNAL: spec(2, 500, 'internal error', 'collect the logs (azcmagent logs) and report the problem'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorRegistry;

/** An error with a stable code. `detail` adds what went wrong in this case; it must hold no secret. */
export class AgentError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  private readonly actionOverride: string | undefined;

  /** `options.action` replaces the registry's generic advice with the exact fix for this case. */
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; action?: string }) {
    const { message } = errorRegistry[code];
    super(
      detail ? `${message}: ${detail}` : message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'AgentError';
    this.code = code;
    this.detail = detail;
    this.actionOverride = options?.action;
  }

  get exitCode(): number {
    return errorRegistry[this.code].exit;
  }

  get status(): number {
    return errorRegistry[this.code].status;
  }

  get action(): string {
    return this.actionOverride ?? errorRegistry[this.code].action;
  }

  /** The JSON body the edge answers with, and `--json` output prints. */
  toJSON(): { code: ErrorCode; message: string; action: string } {
    return { code: this.code, message: this.message, action: this.action };
  }
}

export const isAgentError = (err: unknown): err is AgentError => err instanceof AgentError;

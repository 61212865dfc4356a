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
  // Arc Proxy: the hop through the Arc gateway (gateway-client/).
  GATEWAY_UNREACHABLE: spec(
    26,
    502,
    'the Arc gateway cannot be reached',
    'check that this machine (or its enterprise proxy, proxy.url) may reach the gateway host on its port, usually 443: firewall rules and DNS',
  ),
  GATEWAY_TLS_INSPECTION: spec(
    26,
    502,
    "the Arc gateway's certificate is not from the cloud's CA: something in the path inspects TLS",
    'exempt the gateway domain (*.gw.arc.azure.com) from TLS inspection on the enterprise proxy or firewall',
  ),
  GATEWAY_CLIENT_CERT_REFUSED: spec(
    26,
    502,
    "the Arc gateway refused this machine's certificate",
    'the message names the reason: connect the machine, reconnect it, or associate it with the gateway',
  ),
  GATEWAY_TARGET_NOT_SERVED: spec(
    26,
    502,
    'the Arc gateway does not serve this destination',
    'send it around the gateway: azcmagent config set gateway.bypass HOST:PORT --add',
  ),
  GATEWAY_UNEXPECTED_ANSWER: spec(
    26,
    502,
    'the Arc gateway gave an answer that is not a tunnel nor a known refusal',
    'check the gateway URL (azcmagent show "Gateway URL"); if it is right, collect the logs: azcmagent logs',
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
  CONFIG_LOCKED: spec(
    69,
    503,
    'the local configuration is being changed by another process',
    'wait for the other azcmagent command to finish and retry; if none is running, remove the lock file named in the message',
  ),
  CONFIG_CONFLICT: spec(
    27,
    409,
    'the change conflicts with the current configuration',
    'switch config.mode back to full first (your lists are kept): azcmagent config set config.mode full',
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
  CONFIG_FILE_INVALID: spec(
    19,
    400,
    'the --config file cannot be used',
    'give a readable JSON or YAML file that maps long flag names to values, e.g. {"home": "/var/opt/azcmagent", "verbose": true}',
  ),
  // Local commands: genkey, logs.
  KEY_EXISTS: spec(
    27,
    409,
    'a private key already exists',
    'keep it, or replace it with azcmagent genkey --force (a public key handed out before stops matching)',
  ),
  KEY_WRITE_FAILED: spec(
    104,
    500,
    'the private key cannot be written',
    'run as a user that may create <home>/certs (mode 0700), and check free space',
  ),
  LOGS_BUNDLE_FAILED: spec(
    1,
    500,
    'the log bundle cannot be written',
    'choose a writable place with -o/--output FILE, and check free space',
  ),
  // Connecting to and talking with the cloud.
  AGENT_ALREADY_CONNECTED: spec(
    67,
    409,
    'this machine is already connected',
    'to connect it elsewhere, first run: azcmagent disconnect',
  ),
  AGENT_NOT_CONNECTED: spec(
    63,
    409,
    'this machine is not connected',
    'connect it first: azcmagent connect --help',
  ),
  MISSING_PARAMETER: spec(
    16,
    400,
    'a mandatory parameter is missing',
    'give it on the command line or in the --config file; see azcmagent connect --help',
  ),
  UNKNOWN_REGION: spec(
    20,
    400,
    'unknown region for this cloud',
    'use a region name without spaces, e.g. eastus or westeurope, that the chosen cloud offers',
  ),
  AUTH_FAILED: spec(
    41,
    401,
    'could not get a token with the given credentials',
    'check the tenant, the service principal id and secret (or the access token), and that the secret has not expired',
  ),
  RESOURCE_EXISTS: spec(
    44,
    409,
    'a machine resource with this name already exists',
    'choose another --resource-name, or delete the existing resource first',
  ),
  RESOURCE_CREATE_FAILED: spec(
    42,
    502,
    'the machine resource could not be created',
    'check the subscription, resource group and permissions, then retry',
  ),
  RESOURCE_DELETE_FAILED: spec(
    43,
    502,
    'the machine resource could not be deleted',
    'retry, or clean up this machine only with: azcmagent disconnect --force-local-only',
  ),
  NETWORK_CHECK_FAILED: spec(
    26,
    502,
    'required endpoints cannot be reached',
    'allow the endpoints named above (azcmagent check shows why each failed), or use --ignore-network-check',
  ),
  // `azcmagent check`: what a probe found on top of the dial (TLS, name resolution).
  ENDPOINT_TLS_INSPECTION: spec(
    26,
    502,
    "the endpoint's certificate is not from a CA the agent trusts (TLS inspection in the path?)",
    "exempt the endpoint from TLS inspection on the proxy or firewall: the agent checks certificates against the cloud's CAs",
  ),
  ENDPOINT_TLS_FAILED: spec(
    26,
    502,
    'TLS with the endpoint failed',
    'check that nothing between this machine and the endpoint filters TLS (SNI filtering, TLS older than 1.2)',
  ),
  ENDPOINT_NOT_PRIVATE: spec(
    26,
    502,
    'the endpoint resolves to a public address, not to a private endpoint',
    'point the name at the private endpoint of your Azure Arc private link scope (privatelink DNS zone or a conditional forwarder)',
  ),
  CLOUD_REQUEST_FAILED: spec(
    62,
    502,
    'the cloud refused or failed the request',
    'retry later; if it persists, collect the logs: azcmagent logs',
  ),
  IDENTITY_REGISTRATION_FAILED: spec(
    62,
    502,
    'the machine identity could not be registered',
    'retry azcmagent connect; if the resource was created, it is reused',
  ),
  CLONE_DETECTED: spec(
    62,
    429,
    "another machine is using this machine's identity (a cloned image?)",
    'on this machine run: azcmagent disconnect --force-local-only, then azcmagent connect again',
  ),
  IDENTITY_EXPIRED: spec(
    62,
    401,
    'the machine identity has expired',
    'reconnect: azcmagent disconnect --force-local-only, then azcmagent connect',
  ),
  // Onboarding through an Arc gateway (connect --gateway-id).
  GATEWAY_ID_INVALID: spec(
    23,
    400,
    'the --gateway-id does not name an Arc gateway',
    'give the full ARM id of a gateway, /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.HybridCompute/gateways/<name> (az arcgateway list shows them)',
  ),
  GATEWAY_ASSOCIATION_FAILED: spec(
    62,
    502,
    'the machine could not be associated with the Arc gateway',
    'check that the credentials may write the machine settings (role Azure Arc gateway manager) and that the gateway exists, then run connect again',
  ),
  // HIMDS, the managed-identity and metadata endpoint: answered as {"error", "error_description"}.
  HIMDS_NOT_LOOPBACK: spec(
    23,
    400,
    'HIMDS listens on loopback only',
    'use 127.0.0.1 (the default) or ::1; local software reaches HIMDS there',
  ),
  HIMDS_BAD_REQUEST: spec(
    23,
    400,
    'bad request',
    'send GET with api-version and, for tokens, resource, as the IMDS API documents',
  ),
  HIMDS_METADATA_HEADER: spec(
    23,
    400,
    'Required metadata header not specified',
    'send the header Metadata: true',
  ),
  HIMDS_FORWARDED: spec(
    23,
    400,
    'requests with an X-Forwarded-For header are refused',
    'call HIMDS directly from this machine, not through a proxy',
  ),
  HIMDS_API_VERSION: spec(
    23,
    400,
    'unsupported api-version',
    'use api-version=2020-06-01; supported are 2019-08-15, 2019-11-01, 2020-06-01 and later IMDS versions',
  ),
  HIMDS_NOT_FOUND: spec(
    23,
    404,
    'no such HIMDS route',
    'use /metadata/identity/oauth2/token, /metadata/instance or /metadata/instance/compute',
  ),
  HIMDS_CHALLENGE: spec(
    41,
    401,
    'the key-file challenge must be answered',
    'read the file named in WWW-Authenticate (root and the himds group may) and send the request again with Authorization: Basic <its contents>',
  ),
  HIMDS_CHALLENGE_FAILED: spec(
    41,
    401,
    'the key-file secret is wrong, used already or expired',
    'send the request again without Authorization for a new challenge; each secret works once, and only for a short time',
  ),
  HIMDS_TOO_MANY_CHALLENGES: spec(
    26,
    429,
    'too many unanswered key-file challenges',
    'retry shortly; answer each challenge before asking for another',
  ),
  HIMDS_IDENTITY_NOT_FOUND: spec(
    23,
    404,
    'identity not found: this machine has only its system-assigned identity',
    'leave out client_id, object_id and msi_res_id to use the system-assigned identity',
  ),
  HIMDS_NOT_CONNECTED: spec(
    63,
    409,
    'this machine is not connected to Azure Arc, so it has no managed identity',
    'connect it: azcmagent connect --help',
  ),
  HIMDS_IDENTITY_EXPIRED: spec(
    62,
    409,
    'the machine identity has expired, so no token can be issued',
    'reconnect: azcmagent disconnect --force-local-only, then azcmagent connect',
  ),
  HIMDS_TOKEN_UNAVAILABLE: spec(
    62,
    502,
    'no token could be had from the cloud',
    'check the connection (azcmagent show, azcmagent check) and retry; the reason is in the message',
  ),
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

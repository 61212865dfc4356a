// The error registry is a contract: every code has an AZCM exit code, an HTTP status, a message and
// one line of what to do; AgentError carries them, and its JSON is what clients and `--json` read.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentError, errorRegistry, isAgentError, type ErrorCode } from '../../core/index.ts';

const codes = Object.keys(errorRegistry) as ErrorCode[];

describe('the error registry', () => {
  it.each(codes)('%s has an exit code, a status, a message and an action', (code) => {
    const spec = errorRegistry[code];
    expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    expect(Number.isInteger(spec.exit) && spec.exit >= 1 && spec.exit <= 255).toBe(true);
    expect(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599).toBe(true);
    expect(spec.message.trim().length).toBeGreaterThan(0);
    expect(spec.action.trim().length).toBeGreaterThan(0);
    expect(spec.message).not.toMatch(/[.\n]$/);
    expect(spec.action).not.toContain('\n');
  });

  // ../shared/reference/arc-cli-proxy-gateway.md section 3: the real agent's exit codes.
  it.each<[ErrorCode, number]>([
    ['INTERNAL', 2],
    ['ARCPROXY_NOT_RUNNING', 4],
    ['CONFIG_INVALID', 23],
    ['ARGUMENT_INVALID', 23],
    ['CLOUD_UNKNOWN', 23],
    ['ARCPROXY_UPSTREAM_REFUSED', 26],
    ['ARCPROXY_DNS_FAILURE', 26],
    ['CONFIG_WRITE_FAILED', 69],
    ['CONFIG_UNREADABLE', 70],
    ['CLOUD_PROFILE_INVALID', 75],
  ])('%s ends the CLI with the real agent exit code %i', (code, exit) => {
    expect(errorRegistry[code].exit).toBe(exit);
  });

  it('answers with the statuses the README documents for the Arc Proxy refusals', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(ARCPROXY_[A-Z_]+)`\s*\| (\d{3}|\(closed\))\s*\|/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(15);
    for (const [, code, status] of rows) {
      expect(codes, `README names ${code}`).toContain(code);
      if (status !== '(closed)') expect(errorRegistry[code as ErrorCode].status, code).toBe(Number(status));
    }
  });
});

describe('AgentError', () => {
  it('carries the code, exit code, status and action of its registry entry', () => {
    const err = new AgentError('ARCPROXY_DENIED');
    expect(err).toBeInstanceOf(Error);
    expect(isAgentError(err)).toBe(true);
    expect(isAgentError(new Error('x'))).toBe(false);
    expect(err.name).toBe('AgentError');
    expect(err.code).toBe('ARCPROXY_DENIED');
    expect(err.exitCode).toBe(26);
    expect(err.status).toBe(403);
    expect(err.message).toBe('destination is not in the endpoint allow-list');
    expect(err.action).toBe(errorRegistry.ARCPROXY_DENIED.action);
  });

  it('adds the detail after the message', () => {
    const err = new AgentError('CLOUD_UNKNOWN', 'AzureGermany');
    expect(err.message).toBe('unknown cloud: AzureGermany');
    expect(err.detail).toBe('AzureGermany');
  });

  it('serialises to exactly { code, message, action }', () => {
    const err = new AgentError('CONFIG_INVALID', 'proxy.url: http:// or https://');
    const expected = {
      code: 'CONFIG_INVALID',
      message: 'invalid configuration value: proxy.url: http:// or https://',
      action: 'see the allowed values: azcmagent config info',
    };
    expect(err.toJSON()).toEqual(expected);
    expect(Object.keys(err.toJSON())).toEqual(['code', 'message', 'action']);
    expect(JSON.parse(JSON.stringify(err))).toEqual(expected);
    expect(JSON.parse(JSON.stringify({ error: err }))).toEqual({ error: expected });
  });

  it('lets one case replace the generic action with its exact fix', () => {
    const action = 'allow it: azcmagent config set arcproxy.allowlist example.com:443 --add';
    const err = new AgentError('ARCPROXY_DENIED', 'example.com:443', { action });
    expect(err.action).toBe(action);
    expect(err.toJSON().action).toBe(action);
    expect(new AgentError('ARCPROXY_DENIED').action).toBe(errorRegistry.ARCPROXY_DENIED.action);
  });

  it('keeps the cause it was given, and has none when given none', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(new AgentError('ARCPROXY_UPSTREAM_REFUSED', undefined, { cause }).cause).toBe(cause);
    expect('cause' in new AgentError('ARCPROXY_UPSTREAM_REFUSED')).toBe(false);
  });
});

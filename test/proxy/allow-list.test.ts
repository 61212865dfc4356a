// The allow-list pattern language: host, host:port, *.domain, *.domain:port, IPv4 and IPv6 literals.
import { describe, expect, it } from 'vitest';
import { compileAllowList, parseEndpointPattern } from '../../proxy/index.ts';

const allows = (patterns: string[], host: string, port: number) =>
  compileAllowList([], patterns).allowList.allows({ host, port });

describe('allow-list patterns', () => {
  it('parses every documented form', () => {
    expect(parseEndpointPattern('example.com')).toEqual({ host: 'example.com', wildcard: false, port: 0 });
    expect(parseEndpointPattern('Example.COM:8443')).toEqual({
      host: 'example.com',
      wildcard: false,
      port: 8443,
    });
    expect(parseEndpointPattern('*.corp.test')).toEqual({ host: 'corp.test', wildcard: true, port: 0 });
    expect(parseEndpointPattern('*.corp.test:22')).toEqual({ host: 'corp.test', wildcard: true, port: 22 });
    expect(parseEndpointPattern('10.1.2.3:443')).toEqual({ host: '10.1.2.3', wildcard: false, port: 443 });
    expect(parseEndpointPattern('[2001:db8::1]:443')).toEqual({
      host: '2001:db8::1',
      wildcard: false,
      port: 443,
    });
    expect(parseEndpointPattern('2001:db8::1')).toEqual({ host: '2001:db8::1', wildcard: false, port: 0 });
  });

  it('refuses malformed patterns and reports them', () => {
    for (const bad of ['', 'a b', 'host:0', 'host:99999', '*.', '*.[::1]', 'http://x', 'x/y']) {
      expect(parseEndpointPattern(bad), bad).toBeUndefined();
    }
    expect(compileAllowList([], ['ok.test', 'not ok']).invalid).toEqual(['not ok']);
  });

  it('matches host and port, case-insensitively, wildcards below the domain only', () => {
    expect(allows(['example.com'], 'example.com', 1234)).toBe(true);
    expect(allows(['example.com:443'], 'example.com', 80)).toBe(false);
    expect(allows(['example.com'], 'www.example.com', 443)).toBe(false);
    expect(allows(['*.example.com'], 'a.b.example.com', 443)).toBe(true);
    expect(allows(['*.example.com'], 'example.com', 443)).toBe(false);
    expect(allows(['*.example.com'], 'badexample.com', 443)).toBe(false);
    expect(allows(['*.example.com:443'], 'x.example.com', 444)).toBe(false);
    expect(allows(['[::1]:8080'], '::1', 8080)).toBe(true);
    expect(allows(['10.0.0.1'], '10.0.0.10', 80)).toBe(false);
  });

  it('holds the cloud endpoints at their own ports', () => {
    const { allowList } = compileAllowList([{ host: 'www.microsoft.com', port: 80, purpose: 'esu' }], []);
    expect(allowList.allows({ host: 'www.microsoft.com', port: 80 })).toBe(true);
    expect(allowList.allows({ host: 'www.microsoft.com', port: 443 })).toBe(false);
  });
});

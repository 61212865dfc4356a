// curl, following the two documented steps (Microsoft's "Authenticate against Azure resources with
// Azure Arc-enabled servers", bash sample): the first call gets 401 and the key file's path from a
// case-sensitive `grep Www-Authenticate`, the file is read, and the second call sends its contents
// as `Authorization: Basic <contents>`. The script below is the documented one with only the port
// changed; the token it prints verifies against the token source's JWKS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { execFileP } from '../helpers/world.ts';
import { fakeTokenSource, startTestHimds, type FakeTokenSource } from '../services/himds/world.ts';
import type { HimdsService } from '../../services/himds/server.ts';

let himds: HimdsService;
let source: FakeTokenSource;
beforeAll(async () => {
  source = await fakeTokenSource();
  ({ himds } = await startTestHimds({ tokenSource: source }));
});
afterAll(async () => {
  await himds?.stop();
});

const documentedScript = (port: number, apiVersion: string) => `
ChallengeTokenPath=$(curl -s -D - -H Metadata:true "http://127.0.0.1:${port}/metadata/identity/oauth2/token?api-version=${apiVersion}&resource=https%3A%2F%2Fmanagement.azure.com" | grep Www-Authenticate | cut -d "=" -f 2 | tr -d "[:cntrl:]")
ChallengeToken=$(cat $ChallengeTokenPath)
if [ $? -ne 0 ]; then
    echo "Could not retrieve challenge token, double check that this command is run with root privileges."
else
    curl -s -H Metadata:true -H "Authorization: Basic $ChallengeToken" "http://127.0.0.1:${port}/metadata/identity/oauth2/token?api-version=${apiVersion}&resource=https%3A%2F%2Fmanagement.azure.com"
fi
`;

describe('curl, the documented two steps', () => {
  it.each(['2019-11-01', '2020-06-01'])('gets a token with api-version %s', async (apiVersion) => {
    const { stdout } = await execFileP('bash', ['-c', documentedScript(himds.address.port, apiVersion)]);
    const answer = JSON.parse(stdout) as Record<string, string>;
    const { payload } = await jwtVerify(answer['access_token']!, createLocalJWKSet(source.jwks), {
      audience: 'https://management.azure.com',
    });
    expect(answer['resource']).toBe('https://management.azure.com');
    expect(answer['expires_on']).toBe(String(payload.exp));
    expect(answer['token_type']).toBe('Bearer');
    for (const value of Object.values(answer)) expect(typeof value).toBe('string');
  });

  it('answers the first step with 401, a JSON body and one realm path ending in .key', async () => {
    const { stdout } = await execFileP('curl', [
      '-s',
      '-D',
      '-',
      '-H',
      'Metadata:true',
      `${himds.url}/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https%3A%2F%2Fvault.azure.net`,
    ]);
    const [head = '', body = ''] = stdout.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    expect(head).toMatch(/^Www-Authenticate: Basic realm=\/[^=\s]+\/[0-9a-f-]{36}\.key\r?$/m);
    expect(head).toMatch(/^content-type: application\/json/im);
    expect(JSON.parse(body)).toMatchObject({ error: 'unauthorized_client' });
  });
});

// Secrets never reach the logs: at debug level, a full token flow logs neither the challenge
// secret nor the access token, while it does log what happened.
import { describe, expect, it } from 'vitest';
import { API, startTestHimds, tokenFlow } from './world.ts';

describe('HIMDS logs', () => {
  it('hold no challenge secret and no token', async () => {
    const { himds, lines } = await startTestHimds();
    try {
      const { answer, secret } = await tokenFlow(himds.url, `${API}&resource=https%3A%2F%2Fvault.azure.net`);
      const again = await tokenFlow(himds.url, `${API}&resource=https%3A%2F%2Fvault.azure.net`);
      expect(answer.status).toBe(200);
      const text = lines();
      expect(text).toContain('challenge issued');
      expect(text).toContain('token served');
      for (const s of [secret, again.secret]) expect(text).not.toContain(s);
      const token = String(answer.body['access_token']);
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[2]); // not even the signature
    } finally {
      await himds.stop();
    }
  });
});

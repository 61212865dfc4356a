// HIMDS listens on loopback only: anything that reaches it may ask for a challenge, and reading the
// key file proves privilege only for processes on this machine. Any other address is refused with
// a clear error before a socket is opened.
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../core/index.ts';
import { isLoopbackAddress, startHimds } from '../../../services/himds/server.ts';
import { memoryLogger } from '../../helpers/world.ts';
import { newHome } from './world.ts';

const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address;

describe('binding', () => {
  it.each(['0.0.0.0', '::', '10.0.0.1', lanAddress ?? '192.0.2.1', 'example.com'])(
    'refuses to listen on %s',
    async (host) => {
      const { log } = memoryLogger();
      const err = await startHimds({ home: await newHome(), log, host, port: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentError);
      expect((err as AgentError).code).toBe('HIMDS_NOT_LOOPBACK');
      expect((err as AgentError).message).toContain(host);
      expect((err as AgentError).action).toContain('127.0.0.1');
    },
  );

  it('listens on 127.0.0.1 by default', async () => {
    const { log } = memoryLogger();
    const himds = await startHimds({ home: await newHome(), log, port: 0 });
    try {
      expect(himds.address.address).toBe('127.0.0.1');
      expect(himds.identityEndpoint).toBe(
        `http://127.0.0.1:${himds.address.port}/metadata/identity/oauth2/token`,
      );
    } finally {
      await himds.stop();
    }
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '128.0.0.1', '10.1.1.1', '::ffff:10.0.0.1', 'localhost.example.com'])
      expect(isLoopbackAddress(h), h).toBe(false);
  });
});

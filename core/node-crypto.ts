// node:crypto on first use. Loading it costs the Arc Proxy ~0.9 MB of RSS, and one on a machine that
// is not connected (no certificate to read, no gateway to hash sessions for) never needs it, so code
// that process imports takes node:crypto from here rather than importing it. The same code imports
// node:util (promisify) where it is used, too: node loads it anyway, but a static `import` of it makes
// its ES module namespace, which loads util.parseArgs and util.MIMEType, ~0.2 MB.
import type * as Crypto from 'node:crypto';

let loaded: typeof Crypto | undefined;
/** node:crypto, looked up once: getBuiltinModule costs ~0.8 us a call, and HIMDS calls it per request. */
export const nodeCrypto = (): typeof Crypto => (loaded ??= process.getBuiltinModule('node:crypto'));

/** node:crypto's createHash, loading node:crypto on the first call. */
export const createHash = (algorithm: string): Crypto.Hash => nodeCrypto().createHash(algorithm);

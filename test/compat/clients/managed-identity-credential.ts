// Run in its own process by the compat tests: @azure/identity's ManagedIdentityCredential, as an
// application on an Arc machine uses it. Prints the token and its expiry as JSON on stdout.
import { ManagedIdentityCredential } from '@azure/identity';

const [resource = ''] = process.argv.slice(2);
const token = await new ManagedIdentityCredential().getToken(`${resource}/.default`);
process.stdout.write(JSON.stringify({ token: token.token, expiresOnTimestamp: token.expiresOnTimestamp }));

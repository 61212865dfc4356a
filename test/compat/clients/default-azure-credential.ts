// Run in its own process by the compat tests: @azure/identity's DefaultAzureCredential, which on an
// Arc machine (no AZURE_* variables) ends up at its managed-identity credential.
import { DefaultAzureCredential } from '@azure/identity';

const [resource = ''] = process.argv.slice(2);
const token = await new DefaultAzureCredential().getToken(`${resource}/.default`);
process.stdout.write(JSON.stringify({ token: token.token, expiresOnTimestamp: token.expiresOnTimestamp }));

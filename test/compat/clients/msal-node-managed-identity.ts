// Run in its own process by the compat tests (msal-node keeps its chosen source and its token cache
// in static fields): @azure/msal-node's ManagedIdentityApplication, system-assigned, or user-assigned
// by resource id or client id when one is given. Prints the source it detected, the token and its
// expiry, or the error it threw, as JSON on stdout.
import { ManagedIdentityApplication, type ManagedIdentityConfiguration } from '@azure/msal-node';

const [resource = '', kind = 'system', id = ''] = process.argv.slice(2);
const config: ManagedIdentityConfiguration =
  kind === 'resource-id'
    ? { managedIdentityIdParams: { userAssignedResourceId: id } }
    : kind === 'client-id'
      ? { managedIdentityIdParams: { userAssignedClientId: id } }
      : {};
const app = new ManagedIdentityApplication(config);
const source = app.getManagedIdentitySource();
try {
  const result = await app.acquireToken({ resource });
  process.stdout.write(
    JSON.stringify({ source, token: result.accessToken, expiresOn: result.expiresOn?.getTime() ?? null }),
  );
} catch (err) {
  const e = err as { errorCode?: string; message?: string };
  process.stdout.write(JSON.stringify({ source, errorCode: e.errorCode, message: e.message }));
}

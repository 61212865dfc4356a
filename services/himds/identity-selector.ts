// User-assigned identity selectors (client_id, object_id, msi_res_id, and IMDS's mi_res_id). An Arc
// machine has one identity, its system-assigned one, so a selector either names that identity or
// gets 404 identity_not_found, as MSAL Go's Arc tests expect (reference section 1.4). Newer clients
// fail closed unless the answer echoes the selector, so a match is echoed under the name sent.
import { AgentError } from '../../core/index.ts';

export const SELECTOR_PARAMS = ['client_id', 'object_id', 'msi_res_id', 'mi_res_id'] as const;
export type SelectorParam = (typeof SELECTOR_PARAMS)[number];

export interface Selector {
  param: SelectorParam;
  value: string;
}

/** What is known of the machine's identity: its resource id always, its ids once a token told them. */
export interface KnownIdentity {
  resourceId: string;
  clientId?: string | undefined;
  objectId?: string | undefined;
}

/** The selector of a token request, if any; more than one is a bad request. */
export function selectorOf(query: Partial<Record<SelectorParam, string | undefined>>): Selector | undefined {
  let selector: Selector | undefined;
  for (const param of SELECTOR_PARAMS) {
    const value = query[param];
    if (value === undefined || value === '') continue;
    if (selector) {
      const given = SELECTOR_PARAMS.filter((p) => query[p] !== undefined && query[p] !== '');
      throw new AgentError('HIMDS_BAD_REQUEST', `give at most one of ${given.join(', ')}`);
    }
    selector = { param, value };
  }
  return selector;
}

export type SelectorMatch = 'match' | 'mismatch' | 'unknown';

/** Whether `selector` names this machine's identity; 'unknown' while the id it names is not known yet. */
export function matchSelector(selector: Selector | undefined, identity: KnownIdentity): SelectorMatch {
  if (!selector) return 'match';
  const known =
    selector.param === 'client_id'
      ? identity.clientId
      : selector.param === 'object_id'
        ? identity.objectId
        : identity.resourceId;
  if (known === undefined) return 'unknown';
  // Resource ids and GUIDs are case-insensitive in Azure; clients compare the echo that way too.
  return known.toLowerCase() === selector.value.toLowerCase() ? 'match' : 'mismatch';
}

export const identityNotFound = (selector: Selector): AgentError =>
  new AgentError(
    'HIMDS_IDENTITY_NOT_FOUND',
    `no identity with ${selector.param}=${selector.value.slice(0, 200)} is assigned to this machine`,
  );

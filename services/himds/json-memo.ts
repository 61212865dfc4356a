// Answers that many requests share, serialized once. A cached token's answer changes only with the
// second (expires_in counts down) and with what the request asked for; the instance metadata
// document only when its inputs do. Serializing a token answer (a JWT of 1-2 KB, checked for
// characters to escape) per request is a visible part of what a bare route costs in all.

/** The content type fastify gives JSON it serializes; a string sent with it goes out as it is. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The JSON answer for `value` asked as `key` in second `second` (0 for an answer that does not
 * change with time), made by `serialize` the first time. One answer is kept per value (the latest),
 * so a value asked for in two ways alternately is serialized each time: slower, never wrong.
 */
export type JsonMemo<V extends object> = (
  value: V,
  second: number,
  key: string,
  serialize: () => string,
) => string;

export function createJsonMemo<V extends object>(): JsonMemo<V> {
  const memo = new WeakMap<V, { second: number; key: string; json: string }>();
  return (value, second, key, serialize) => {
    const hit = memo.get(value);
    if (hit !== undefined && hit.second === second && hit.key === key) return hit.json;
    const json = serialize();
    memo.set(value, { second, key, json });
    return json;
  };
}

// OpenList: the array-backed set behind open connections, tunnels and deadlines.
import { describe, expect, test } from 'vitest';
import { OpenList } from '../../proxy/open-list.ts';

const member = (name: string) => ({ name, slot: -1 });
const names = (list: OpenList<{ name: string; slot: number }>) =>
  list
    .toArray()
    .map((m) => m.name)
    .sort();

describe('OpenList', () => {
  test('adds once, removes from anywhere, and keeps every slot pointing at its member', () => {
    const list = new OpenList<{ name: string; slot: number }>();
    const a = member('a');
    const b = member('b');
    const c = member('c');
    const d = member('d');
    for (const m of [a, b, c, d, a]) list.add(m);
    expect(list.size).toBe(4);
    list.delete(b); // from the middle: the last moves into its place
    list.delete(b); // twice is a no-op
    expect(b.slot).toBe(-1);
    expect(names(list)).toEqual(['a', 'c', 'd']);
    for (const m of list.toArray()) expect(list.toArray()[m.slot]).toBe(m);
    list.delete(d); // the last
    list.delete(a); // the first
    expect(names(list)).toEqual(['c']);
    expect(c.slot).toBe(0);
    list.add(b); // back in after removal
    expect(names(list)).toEqual(['b', 'c']);
  });

  test('forEach visits every member that stays in until its turn, even when the visitor removes and adds', () => {
    const list = new OpenList<{ name: string; slot: number }>();
    const all = Array.from({ length: 10 }, (_, i) => member(String(i)));
    for (const m of all) list.add(m);
    const seen: string[] = [];
    list.forEach((m) => {
      seen.push(m.name);
      if (m.name.startsWith('new-')) return;
      list.delete(m); // itself, as Deadlines does before expire()
      if (m.name === '5') list.delete(all[2]!); // and another, before its turn
      list.add(member(`new-${m.name}`));
    });
    const originals = seen.filter((n) => !n.startsWith('new-'));
    expect(originals.sort()).toEqual(['0', '1', '3', '4', '5', '6', '7', '8', '9']);
    expect(list.size).toBe(9);
    expect(names(list).every((n) => n.startsWith('new-'))).toBe(true);
  });
});

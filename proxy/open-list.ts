// What is open right now (client connections, tunnels, things with a deadline): an unordered list in
// an array, each member holding its own index, so that adding and removing cost O(1) and a removed
// member is let go at once (the last member moves into its place).
//
// Why not a Set or a Map: measured with `--trace-gc-nvp` under bench:proxy's new-tunnel load, the
// objects of a connection that had been a key of one (even wrapped in an object of its own) survived
// young-generation collections and were promoted to the old generation: 4.7 KB promoted per tunnel
// with the proxy's three tables, 1.4 KB with these lists, and scavenge time 12.5 -> 7.2 us per
// tunnel. (The likely reason, not established: old copies of a table, left in the old generation
// when it grows or is rebuilt, still point at keys removed since.)

/** A member of at most one OpenList at a time: `slot` is its index there, -1 when in none. */
export interface Member {
  slot: number;
}

export class OpenList<T extends Member> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Adds `item` unless it is in already. */
  add(item: T): void {
    if (item.slot >= 0) return;
    item.slot = this.items.length;
    this.items.push(item);
  }

  /** Removes `item` if it is in. */
  delete(item: T): void {
    const at = item.slot;
    if (at < 0) return;
    item.slot = -1;
    const last = this.items.pop()!;
    if (last === item) return;
    this.items[at] = last;
    last.slot = at;
  }

  /**
   * Calls `visit` for every member, the last first. `visit` may add and remove members (itself or
   * others): every member that stays in until its turn is visited; one added meanwhile, or moved
   * down by a removal, may be visited too (so a member may be visited twice).
   */
  forEach(visit: (item: T) => void): void {
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i];
      if (item) visit(item);
    }
  }

  /** The members now, in no particular order. */
  toArray(): T[] {
    return this.items.slice();
  }
}

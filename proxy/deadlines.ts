// Time limits for many things at once (request heads, idle keep-alive connections, answers awaited
// from destinations): each carries a deadline, moved by a field write, and one interval checks them
// all, as node:http's connectionsCheckingInterval does. A timer per request would cost more than the
// rest of its bookkeeping.
import { type Member, OpenList } from './open-list.ts';

export interface Timed extends Member {
  /** Epoch milliseconds after which `expire()` is called once; 0 for none. */
  deadline: number;
  expire(): void;
}

export class Deadlines {
  private readonly items = new OpenList<Timed>();
  private readonly timer: NodeJS.Timeout;

  /** `everyMs`: how often deadlines are checked, so how late past its deadline something may expire. */
  constructor(everyMs: number) {
    this.timer = setInterval(() => this.check(), everyMs);
    this.timer.unref();
  }

  add(item: Timed): void {
    this.items.add(item);
  }

  delete(item: Timed): void {
    this.items.delete(item);
  }

  private check(): void {
    const now = Date.now();
    this.items.forEach((item) => {
      if (item.deadline === 0 || item.deadline > now) return;
      this.items.delete(item);
      item.expire();
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.items.forEach((item) => this.items.delete(item));
  }
}

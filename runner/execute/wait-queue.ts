/** What a {@link WaitQueue} holds: it marks each item while the item waits. */
export interface Queueable {
  queued?: boolean;
}

/**
 * First in, first out, with removal from the middle (a run aborted while it waits): a
 * removed item is unmarked and skipped when the front reaches it. Not a Set: taking the
 * first of a Set again and again walks over every entry already taken (V8 compacts a
 * Set's table only when it resizes), which with 10,000 runs waiting cost more main-thread
 * time than handing a run to piscina.
 */
export class WaitQueue<T extends Queueable> {
  private items: Array<T | undefined> = [];
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    item.queued = true;
    this.items.push(item);
    this.count++;
  }

  /** The first item still waiting, taken out; undefined when none is. */
  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head++] = undefined;
      if (!item?.queued) continue;
      this.take(item);
      return item;
    }
    return undefined;
  }

  /** Takes `item` out wherever it is; false if it was not waiting. */
  remove(item: T): boolean {
    if (!item.queued) return false;
    this.take(item);
    return true;
  }

  /** Every item still waiting, in order, taken out. */
  drain(): T[] {
    const left: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) left.push(item);
    return left;
  }

  private take(item: T): void {
    item.queued = false;
    this.count--;
    if (this.count === 0) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      // The taken slots at the front are most of the array: drop them.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** An item of a {@link MinHeap}: the heap keeps `heapIndex` up to date (-1 when not in it). */
export interface HeapItem {
  heapIndex: number;
}

/**
 * A binary min-heap that knows where each item sits, so an item can be removed or moved
 * when its key changes in O(log n). The scheduler keeps one group per distinct schedule in
 * it, keyed by the group's next fire.
 */
export class MinHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  constructor(private readonly keyOf: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  has(item: T): boolean {
    return item.heapIndex >= 0 && this.items[item.heapIndex] === item;
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  /** Puts an item whose key changed back in order (or in the heap, if it was not). */
  update(item: T): void {
    if (!this.has(item)) return this.push(item);
    this.down(this.up(item.heapIndex));
  }

  remove(item: T): void {
    if (!this.has(item)) return;
    const i = item.heapIndex;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(this.up(i));
  }

  /** Empties the heap and fills it with `items` in O(n). */
  reset(items: Iterable<T>): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
    for (const item of items) {
      item.heapIndex = this.items.length;
      this.items.push(item);
    }
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private up(i: number): number {
    const item = this.items[i]!;
    const key = this.keyOf(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = this.items[parent]!;
      if (this.keyOf(above) <= key) break;
      this.place(above, i);
      i = parent;
    }
    this.place(item, i);
    return i;
  }

  private down(i: number): void {
    const item = this.items[i]!;
    const key = this.keyOf(item);
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.keyOf(this.items[right]!) < this.keyOf(this.items[left]!) ? right : left;
      const below = this.items[child]!;
      if (this.keyOf(below) >= key) break;
      this.place(below, i);
      i = child;
    }
    this.place(item, i);
  }

  private place(item: T, i: number): void {
    this.items[i] = item;
    item.heapIndex = i;
  }
}

import { expect, it } from "vitest";
import { WaitQueue } from "../../runner/execute/wait-queue.js";

const item = (n: number) => ({ n, queued: false });

it("wait queue: first in, first out; an item removed from the middle is skipped; drain takes the rest in order", () => {
  const queue = new WaitQueue<ReturnType<typeof item>>();
  const items = [1, 2, 3, 4, 5].map(item);
  for (const i of items) queue.push(i);
  expect(queue.remove(items[2]!)).toBe(true);
  expect(queue.remove(items[2]!)).toBe(false);
  expect(queue.size).toBe(4);
  expect(queue.shift()?.n).toBe(1);
  expect(queue.drain().map((i) => i.n)).toEqual([2, 4, 5]);
  expect(queue.size).toBe(0);
  expect(queue.shift()).toBeUndefined();
  expect(queue.remove(items[0]!)).toBe(false);
});

it("wait queue: order holds across the compaction of thousands taken, with removals and pushes between", () => {
  const queue = new WaitQueue<ReturnType<typeof item>>();
  const expected: number[] = [];
  let next = 0;
  const taken: number[] = [];
  for (let round = 0; round < 5; round++) {
    const pushed = Array.from({ length: 1500 }, () => item(next++));
    for (const i of pushed) queue.push(i);
    pushed.forEach((i) => (i.n % 7 === 0 ? queue.remove(i) : expected.push(i.n)));
    for (let k = 0; k < 1200; k++) {
      const i = queue.shift();
      if (i) taken.push(i.n);
    }
  }
  taken.push(...queue.drain().map((i) => i.n));
  expect(taken).toEqual(expected);
});

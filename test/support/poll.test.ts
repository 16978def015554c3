import { expect, test } from "vitest";
import { waitFor } from "./poll.js";

test("waitFor on a read returns the value that satisfied it, and a timeout shows the last value read", async () => {
  let n = 0;
  expect(await waitFor(() => ++n, { until: (value) => value >= 3 })).toBe(3);
  await expect(waitFor(() => ({ missing: ["2027-01-01T00:00:01.000Z"] }), { until: (v) => v.missing.length === 0, timeoutMs: 20, what: "every fire claimed" })).rejects.toThrowErrorMatchingInlineSnapshot(
    `[Error: timed out after 20ms waiting for every fire claimed; last read: { missing: [ '2027-01-01T00:00:01.000Z' ] }]`,
  );
  await expect(waitFor(() => false, 20, "a condition that never holds")).rejects.toThrowErrorMatchingInlineSnapshot(`[Error: timed out after 20ms waiting for a condition that never holds]`);
});

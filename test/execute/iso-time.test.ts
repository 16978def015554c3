import { expect, it } from "vitest";
import { IsoTimes } from "../../runner/execute/iso-time.js";

it("iso times: the ISO string of each time asked, the same string again for the same millisecond", () => {
  const times = new IsoTimes();
  const a = Date.UTC(2030, 0, 2, 3, 4, 5, 6);
  const first = times.at(a);
  expect(first).toBe("2030-01-02T03:04:05.006Z");
  expect(times.at(a)).toBe(first);
  expect(times.at(a + 1)).toBe("2030-01-02T03:04:05.007Z");
  expect(times.at(a)).toBe("2030-01-02T03:04:05.006Z");
});

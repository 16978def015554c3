import { expect, test } from "vitest";
import { runCli } from "../support/cli.js";
import { nodeScheduleFires, nodeScheduleRule } from "../support/node-schedule-probe.js";
import { tempProject } from "../support/temp-project.js";

test("list --json --next 5 gives node-schedule's own next fires, across a DST change, in the stable format", () => {
  using project = tempProject({
    "jobs/ok.ts": "export default () => 1;\n",
    "jobs.yaml": `version: 1
jobs:
  nightly:
    description: At 02:30 on Sundays in March, New York (2027-03-14 is spring-forward day)
    handler: jobs/ok.ts
    schedule: { cron: "30 2 * 3 0", timezone: America/New_York }
  berlin:
    handler: jobs/ok.ts
    schedule: "0 30 2 * * *"
    timezone: Europe/Berlin
  rule:
    handler: jobs/ok.ts
    schedule: { hour: 1, minute: 30, dayOfWeek: 0, month: [9, 10], timezone: America/New_York }
  off:
    handler: jobs/ok.ts
    schedule: "* * * * *"
    enabled: [production]
  manual:
    handler: jobs/ok.ts
`,
  });
  const before = new Date();
  const result = runCli(["list", "--json", "--next", "5", "--env", "staging", "--store", "memory"], { cwd: project.dir });
  expect(result.status).toBe(0);
  const jobs = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
  expect(jobs.map((j) => Object.keys(j).sort())[0]).toEqual(["after", "afterText", "concurrency", "description", "enabled", "human", "lastRunAt", "lastStatus", "mode", "name", "next", "overlap", "schedule", "timezone"]);
  const byName = Object.fromEntries(jobs.map((j) => [j.name, j]));

  expect(byName.nightly!.next).toEqual(nodeScheduleFires({ rule: "30 2 * 3 0", tz: "America/New_York" } as unknown as string, before, 5));
  expect((byName.nightly!.next as string[]).some((n) => n.startsWith("2027-03-14T07:30"))).toBe(true); // 03:30 EDT
  expect(byName.nightly).toMatchObject({ schedule: { cron: "30 2 * 3 0", timezone: "America/New_York" }, timezone: "America/New_York", mode: "inline", enabled: true });
  expect(byName.berlin!.next).toEqual(nodeScheduleFires({ rule: "0 30 2 * * *", tz: "Europe/Berlin" } as unknown as string, before, 5));
  expect(byName.rule!.next).toEqual(nodeScheduleFires(nodeScheduleRule({ hour: 1, minute: 30, dayOfWeek: 0, month: [9, 10] }, "America/New_York"), before, 5));
  expect(byName.off).toMatchObject({ enabled: false, next: [], human: "Every minute" });
  expect(byName.manual).toMatchObject({ schedule: null, next: [], human: "Invoked manually only" });

  const table = runCli(["list", "--env", "staging", "--store", "memory"], { cwd: project.dir }).stdout;
  expect(table.split("\n")[0]).toMatch(/^NAME\s+SCHEDULE\s+WHEN\s+MODE\s+OVERLAP\s+ENABLED\s+NEXT \(UTC\)\s+LAST RUN$/);
  expect(table).toContain("no (staging)");
});

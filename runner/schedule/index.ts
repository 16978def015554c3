export { nextFire, nextFires, scheduleKey } from "./next-fire.js";
export { Scheduler, type FireBatch, type SchedulerOptions } from "./scheduler.js";
export { describeSchedule } from "./describe.js";
export { AfterIndex, endsAs } from "./after-index.js";

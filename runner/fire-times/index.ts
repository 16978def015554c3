/**
 * When a schedule fires: pure time arithmetic on a schedule and an instant, with no timer
 * and no state. The manifest stage asks it whether a schedule fires at all; the schedule
 * stage, the listing and catch-up ask it when. docs/schedules.md says how it reads crons,
 * rules and DST changes.
 */
export { FIRE_HORIZON_YEARS, firesAfter, nextFire, nextFires } from "./next-fire.js";
export { readCron } from "./cron-reading.js";
export { ruleValues } from "./rule-reading.js";

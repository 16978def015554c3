import { defineJob } from "runlet/job";

/** Logs a line every few seconds, so a fresh `npm start` shows the runner at work. */
export default defineJob(async (ctx) => {
  const latenessMs = Date.now() - ctx.fireDate.getTime();
  ctx.log.info({ latenessMs }, "heartbeat");
  return { beat: ctx.fireDate.toISOString(), latenessMs };
});

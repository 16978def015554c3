/**
 * `runlet/job`: what a handler file imports. Types and `defineJob` only — nothing of the
 * runner — so a worker thread that loads a handler pays for a bare import, not for the
 * scheduler, the stores and the compiler.
 *
 * ```ts
 * import { defineJob } from "runlet/job";
 * export default defineJob<{ name: string }>(async (ctx) => {
 *   ctx.log.info({ name: ctx.params.name }, "hello");
 * });
 * ```
 */
export { defineJob, type JobContext, type JobHandler, type JobLogger, type JobTrigger } from "./context.js";

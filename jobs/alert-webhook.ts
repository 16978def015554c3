import { defineJob } from "runlet/job";

interface Params {
  /** Where to post: a Slack incoming webhook, or any endpoint taking JSON. Empty: log only. */
  url: string;
  /** The runner's dashboard, for the link to the failed run. */
  dashboard: string;
  /** How long the post may take before the alert run fails. */
  timeoutMs: number;
}

/**
 * Tells people a run failed: runs `after: { job: [...], on: failure }` and posts the
 * upstream run (job, run id, status, error, a link to it on the dashboard) as JSON. The
 * `text` field is what Slack (and Mattermost, Discord's /slack endpoint, ...) shows; the
 * other fields are there for anything else that reads the post.
 */
export default defineJob<Params>(async (ctx) => {
  const { trigger } = ctx;
  if (trigger.kind !== "after") {
    ctx.log.warn({ trigger: trigger.kind }, "alert-webhook runs after other jobs' failures; nothing to report");
    return { sent: false };
  }
  const link = `${ctx.params.dashboard.replace(/\/+$/, "")}/#job=${encodeURIComponent(trigger.job)}&run=${encodeURIComponent(trigger.runId)}`;
  const error = trigger.error?.message ?? "no error recorded";
  const alert = {
    text: `:rotating_light: ${trigger.job} ${trigger.status}: ${error}\nrun ${trigger.runId} · ${link}`,
    job: trigger.job,
    runId: trigger.runId,
    status: trigger.status,
    error: trigger.error,
    link,
  };
  if (!ctx.params.url) {
    ctx.log.warn(alert, "no ALERT_WEBHOOK_URL set: the alert is only logged");
    return { sent: false };
  }
  // Bounded: a webhook that hangs must not hold this run (or the runner's shutdown) forever.
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.params.timeoutMs)]);
  const response = await fetch(ctx.params.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alert), signal });
  if (!response.ok) throw new Error(`the webhook answered ${response.status} ${response.statusText}: ${(await response.text()).slice(0, 200)}`);
  return { sent: true, status: response.status };
});

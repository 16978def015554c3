// One replica for the class-job test: a runner on the shared PostgreSQL store (argv[2]) with
// a class job beside it that fires every second and appends what it ran to argv[3].
// Talks to the test over IPC: "ready" once started; stops on "stop".
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [, , storeUrl, logFile, projectDir, distDir] = process.argv;
const dist = (path) => import(pathToFileURL(join(distDir, path)).href);
const { createRunner, ClassicRuntime, JobFactory } = await dist("runner/index.js");
const { openStore } = await dist("runner/store/open-store.js");
const { createLogger } = await dist("runner/log/logger.js");

class BeatFactory extends JobFactory {
  getSpec() {
    return "* * * * * *";
  }
  getJobCallback() {
    return (fireDate) => appendFileSync(logFile, `${fireDate.toISOString()} ${process.pid}\n`);
  }
}

const logger = createLogger({ level: "warn" });
const store = await openStore(storeUrl, { manifestDir: projectDir, logger });
const runner = createRunner({ manifest: join(projectDir, "jobs.yaml"), store, logger, shutdownGraceMs: 1000 });
await runner.load();
const runtime = new ClassicRuntime({ runner, logger });
new BeatFactory({ runtime, name: "beat" }).create();
await runner.start();
process.send({ ready: true });
process.on("message", async (message) => {
  if (message !== "stop") return;
  await runtime.stop();
  await runner.stop();
  process.disconnect();
});

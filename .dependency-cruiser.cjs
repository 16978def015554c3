// The stages' allowed arrows (docs/architecture.md draws them). `npm test` runs this check
// (npm run deps); a new import that breaks a rule fails the suite with the rule's name.
// TypeScript 7 has no compiler API for dependency-cruiser to parse with, so it parses with
// swc; type-only imports count as imports (tsPreCompilationDeps).

/** Folders of runner/, in the order data flows through them. */
const stage = (name) => `^runner/${name}/`;
const any = (...names) => `^runner/(${names.join("|")})/`;
const COMPOSITION = "^runner/(runner|runner-options|index)\\.ts$";

module.exports = {
  forbidden: [
    {
      name: "contracts-are-neutral",
      comment: "contracts/ is what every stage shares: it imports none of them.",
      severity: "error",
      from: { path: stage("contracts") },
      to: { path: [any("manifest", "compile", "schedule", "execute", "store", "coordinate", "core", "reload", "recovery", "watch", "http", "cli", "classic", "listing"), COMPOSITION] },
    },
    {
      name: "fire-times-are-pure-arithmetic",
      comment: "fire-times/ answers when a schedule fires, for the manifest's checks and the schedule stage alike: it imports no stage.",
      severity: "error",
      from: { path: stage("fire-times") },
      to: { path: [any("manifest", "compile", "schedule", "execute", "store", "coordinate", "core", "reload", "recovery", "watch", "http", "cli", "classic", "listing"), COMPOSITION] },
    },
    {
      name: "manifest-imports-no-later-stage",
      comment: "The manifest is the first stage: it reads and checks what a person wrote, and knows nothing of what runs it.",
      severity: "error",
      from: { path: stage("manifest") },
      to: { path: [any("compile", "schedule", "execute", "store", "coordinate", "core", "reload", "recovery", "watch", "http", "cli", "classic", "listing"), COMPOSITION] },
    },
    {
      name: "schedule-knows-no-execution-store-or-http",
      comment: "schedule/ computes fire times and keeps the timer heap; what a fire does is the caller's.",
      severity: "error",
      from: { path: stage("schedule") },
      to: { path: [any("execute", "store", "coordinate", "http", "core", "reload", "recovery", "watch", "cli", "classic"), COMPOSITION] },
    },
    {
      name: "execute-knows-no-schedule-watch-or-http",
      comment: "execute/ runs what it is handed; when and why a run starts is decided before it.",
      severity: "error",
      from: { path: stage("execute") },
      to: { path: [any("schedule", "watch", "http", "coordinate", "core", "reload", "recovery", "cli", "classic"), COMPOSITION] },
    },
    {
      name: "store-knows-no-execution-or-http",
      comment: "store/ keeps records; it does not run or serve them.",
      severity: "error",
      from: { path: stage("store") },
      to: { path: [any("execute", "http", "coordinate", "core", "reload", "watch", "cli", "classic"), COMPOSITION] },
    },
    {
      name: "coordinate-decides-who-runs-not-how",
      comment: "coordinate/ claims, leases and fences runs through the store's capabilities (store/fire-claims.ts, store/sole-owner.ts); it runs nothing itself and knows no database driver.",
      severity: "error",
      from: { path: stage("coordinate") },
      to: { path: [any("execute", "schedule", "http", "core", "reload", "recovery", "watch", "cli", "classic"), COMPOSITION, "^runner/store/(postgres/|sqlite)", "(^|/)node_modules/pg/"] },
    },
    {
      name: "postgres-only-behind-its-door",
      comment: "The runner, its core and the coordination import no PostgreSQL code: pg loads only when a postgres:// store is opened (store/open-store.ts).",
      severity: "error",
      from: { path: [any("core", "coordinate"), COMPOSITION] },
      to: { path: ["^runner/store/postgres/", "(^|/)node_modules/pg/"] },
    },
    {
      name: "http-serves-through-the-runner-view",
      comment: "http/ sees a runner through RunnerView and records; it reaches no stage's internals.",
      severity: "error",
      from: { path: stage("http") },
      to: { path: [any("execute", "schedule", "core", "reload", "recovery", "watch", "cli", "classic", "compile"), "^runner/store/(postgres|sqlite)"] },
    },
    {
      name: "fire-times-are-pure",
      comment: "fire-times/ is time arithmetic only (what the manifest checks and the scheduler arms): no stage, no timer.",
      severity: "error",
      from: { path: stage("fire-times") },
      to: { path: [any("manifest", "compile", "schedule", "execute", "store", "core", "coordinate", "reload", "recovery", "watch", "http", "cli", "classic", "listing"), COMPOSITION] },
    },
    {
      name: "coordination-knows-no-execution-schedule-or-http",
      comment: "coordinate/ decides which replica runs a fire and keeps its lease; it runs nothing itself (the core hands it callbacks).",
      severity: "error",
      from: { path: stage("coordinate") },
      to: { path: [any("execute", "schedule", "http", "core", "reload", "recovery", "watch", "cli", "classic"), COMPOSITION] },
    },
    {
      name: "runner-core-loads-no-database-driver",
      comment: "runner.ts and core/ reach PostgreSQL only through coordinate/ and the store interface, so a runner on SQLite never loads pg.",
      severity: "error",
      from: { path: ["^runner/(runner|runner-options)\\.ts$", stage("core")] },
      to: { path: ["^runner/store/postgres/", "^pg$"] },
    },
    {
      name: "workers-load-only-the-worker-side",
      comment: "A worker thread loads the handler runtime only: nothing of the runner's main side (scheduler, stores, manifest, compiler, pools).",
      severity: "error",
      from: { path: "^workers/" },
      to: {
        path: [
          any("manifest", "compile", "schedule", "store", "core", "reload", "recovery", "watch", "http", "cli", "classic", "listing"),
          COMPOSITION,
          "^runner/execute/(dispatcher|thread-executor|inline-executor|worker-links|wait-queue|worker-entry|record-events)\\.ts$",
        ],
        reachable: true,
      },
    },
    {
      name: "handlers-import-only-the-job-entry",
      comment: "Handlers (jobs/) import `runlet/job` only: the types and defineJob, nothing of the runner.",
      severity: "error",
      from: { path: "^jobs/" },
      to: { path: ["^(dist/)?runner/", "^runlet($|/(?!job$))"], pathNot: "^(dist/)?runner/job\\.(ts|js|d\\.ts)$" },
    },
  ],
  options: {
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|test)/" },
  },
};

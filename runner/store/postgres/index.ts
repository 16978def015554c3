/** Several replicas on one PostgreSQL database: the store, its claim capability, and the replica side of the protocol. */
export { PostgresStore, openPostgresStore, describePgError, type PostgresStoreOptions } from "./postgres-store.js";
export { ClaimedRuns, type ClaimedRunsOptions } from "./claimed-runs.js";
export { fireClaimsOf, type FireClaims, type ClaimingStore, type FireClaim, type FireClaimRequest, type FencedRun, type AcquiredRun, type ExpiredRun } from "./fire-claims.js";
export { postgresSettings, postgresDefaults, type PostgresSettings } from "./pg-config.js";

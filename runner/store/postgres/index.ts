/** Several replicas on one PostgreSQL database: the store and its claim capability (the protocol is runner/coordinate/). */
export { PostgresStore, openPostgresStore, type PostgresStoreOptions } from "./postgres-store.js";
export { fireClaimsOf, type FireClaims, type ClaimingStore, type FireClaim, type FireClaimRequest, type FencedRun, type AcquiredRun, type ExpiredRun } from "../fire-claims.js";
export { postgresSettings, postgresDefaults, type PostgresSettings } from "./pg-config.js";

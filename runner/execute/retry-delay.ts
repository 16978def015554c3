import type { RetryPolicy } from "../contracts/index.js";

/**
 * Wait before retry number `failedAttempt` (1 after the first failure): `delay` each time
 * (fixed) or delay × 2^(n-1) (exponential), never above `maxDelay`.
 */
export function retryDelay(policy: RetryPolicy, failedAttempt: number): number {
  const raw = policy.backoff === "exponential" ? policy.delayMs * 2 ** (failedAttempt - 1) : policy.delayMs;
  return policy.maxDelayMs === null ? raw : Math.min(raw, policy.maxDelayMs);
}

/**
 * One wall clock for every process of the bench: epoch milliseconds with sub-millisecond precision, so the times a
 * child records for its requests and the times the parent's token server records line up.
 */
import { performance } from "node:perf_hooks"

export const now = (): number => performance.timeOrigin + performance.now()

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Summaries of samples: percentiles by the nearest-rank method, and the median with its spread (min and max) over
 * rounds.
 */

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly rounds: ReadonlyArray<number>
}

export const percentile = (samples: ReadonlyArray<number>, p: number): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

export const median = (samples: ReadonlyArray<number>): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export const spread = (rounds: ReadonlyArray<number>): Spread => ({
  median: median(rounds),
  min: rounds.length === 0 ? Number.NaN : Math.min(...rounds),
  max: rounds.length === 0 ? Number.NaN : Math.max(...rounds),
  rounds
})

/** Number formatting for the tables: fixed precision, thousands separators, and `n/a` for what was not measured. */

export const fixed = (value: number, digits = 1): string =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a"

export const int = (
  value: number
): string => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a")

export const ms = (value: number): string => (Number.isFinite(value) ? `${fixed(value, value < 10 ? 2 : 1)} ms` : "n/a")

/** A median with its spread over rounds: `1.23 (1.10–1.40)`. */
export const withSpread = (
  spread: { readonly median: number; readonly min: number; readonly max: number },
  show: (value: number) => string
): string => `${show(spread.median)} (${show(spread.min)}–${show(spread.max)})`

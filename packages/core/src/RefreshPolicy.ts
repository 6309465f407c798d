/**
 * When a token is refreshed, when it stops being used, and how failed refreshes are retried: plain data.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import type { AccessToken } from "./AccessToken.js"

/**
 * The refresh policy. Every field has a default (see `defaults`); build one with `make({ ... })`.
 *
 * - `refreshAt`: the fraction of the lifetime at which the token is refreshed (0.5: half-way).
 * - `refreshMargin`: refresh never later than `expiresAt − refreshMargin`.
 * - `expiryMargin`: the token is unusable from `expiresAt − expiryMargin` (covers clock drift and request time).
 * - `maxMarginRatio`: margins never exceed this fraction of the lifetime, so a token that lives seconds is still
 *   used for most of its life and refreshed about once per lifetime, never in a loop.
 * - `jitter`: ± fraction applied to the refresh delay so a fleet does not refresh in step.
 * - `defaultLifetime`: the lifetime assumed when the server sends no `expires_in`.
 * - `maxRefreshInterval`: refresh at least this often, whatever the lifetime (also keeps timers in range).
 * - `retryBase`, `retryMax`: jittered exponential backoff for transient refresh failures (doubling from the base,
 *   capped), retried for as long as the current token is usable; a `Retry-After` from the server is honoured.
 *
 * @since 0.1.0
 * @category models
 */
export interface RefreshPolicy {
  readonly refreshAt: number
  readonly refreshMargin: Duration.Duration
  readonly expiryMargin: Duration.Duration
  readonly maxMarginRatio: number
  readonly jitter: number
  readonly defaultLifetime: Duration.Duration
  readonly maxRefreshInterval: Duration.Duration
  readonly retryBase: Duration.Duration
  readonly retryMax: Duration.Duration
}

/**
 * The options of `make`: any field of `RefreshPolicy`, durations as any `Duration.DurationInput`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly refreshAt?: number | undefined
  readonly refreshMargin?: Duration.DurationInput | undefined
  readonly expiryMargin?: Duration.DurationInput | undefined
  readonly maxMarginRatio?: number | undefined
  readonly jitter?: number | undefined
  readonly defaultLifetime?: Duration.DurationInput | undefined
  readonly maxRefreshInterval?: Duration.DurationInput | undefined
  readonly retryBase?: Duration.DurationInput | undefined
  readonly retryMax?: Duration.DurationInput | undefined
}

/**
 * The defaults: refresh at 50 % of the lifetime, never later than expiry − 60 s, ±10 % jitter, unusable from
 * expiry − 30 s, margins at most a quarter of the lifetime, 1 hour when `expires_in` is missing, at least one refresh
 * a day, backoff from 200 ms doubling up to 30 s.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: RefreshPolicy = {
  refreshAt: 0.5,
  refreshMargin: Duration.seconds(60),
  expiryMargin: Duration.seconds(30),
  maxMarginRatio: 0.25,
  jitter: 0.1,
  defaultLifetime: Duration.hours(1),
  maxRefreshInterval: Duration.hours(24),
  retryBase: Duration.millis(200),
  retryMax: Duration.seconds(30)
}

/**
 * Builds a policy from the defaults and the given overrides. Throws a `RangeError` naming the field when a value is
 * out of range (fractions outside [0, 1], negative durations, a zero default lifetime).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): RefreshPolicy => {
  const policy: RefreshPolicy = {
    refreshAt: options.refreshAt ?? defaults.refreshAt,
    refreshMargin: duration(options.refreshMargin, defaults.refreshMargin),
    expiryMargin: duration(options.expiryMargin, defaults.expiryMargin),
    maxMarginRatio: options.maxMarginRatio ?? defaults.maxMarginRatio,
    jitter: options.jitter ?? defaults.jitter,
    defaultLifetime: duration(options.defaultLifetime, defaults.defaultLifetime),
    maxRefreshInterval: duration(options.maxRefreshInterval, defaults.maxRefreshInterval),
    retryBase: duration(options.retryBase, defaults.retryBase),
    retryMax: duration(options.retryMax, defaults.retryMax)
  }
  fraction("refreshAt", policy.refreshAt, false)
  fraction("maxMarginRatio", policy.maxMarginRatio, true)
  fraction("jitter", policy.jitter, true)
  positive("defaultLifetime", policy.defaultLifetime)
  positive("maxRefreshInterval", policy.maxRefreshInterval)
  positive("retryBase", policy.retryBase)
  if (Duration.lessThan(policy.retryMax, policy.retryBase)) {
    throw new RangeError("RefreshPolicy.retryMax must not be shorter than retryBase")
  }
  return policy
}

/**
 * The epoch millisecond from which the token must not be sent any more: `expiresAt` minus the expiry margin,
 * the margin capped at `maxMarginRatio / 2` of the lifetime so it stays below the refresh point.
 *
 * @since 0.1.0
 * @category timing
 */
export const usableUntil = (policy: RefreshPolicy, token: AccessToken): number =>
  token.expiresAt - margin(policy.expiryMargin, token.lifetimeMillis, policy.maxMarginRatio / 2)

/**
 * The epoch millisecond at which the token should be refreshed, given a random number in [0, 1) for the jitter:
 * `refreshAt` of the lifetime ± jitter, never later than `expiresAt − refreshMargin` (margin capped at
 * `maxMarginRatio` of the lifetime) and never later than `maxRefreshInterval` after issue.
 *
 * @since 0.1.0
 * @category timing
 */
export const refreshPoint = (policy: RefreshPolicy, token: AccessToken, random: number): number => {
  const lifetime = Math.max(0, token.lifetimeMillis)
  const jittered = lifetime * policy.refreshAt * (1 + policy.jitter * (2 * random - 1))
  const latest = lifetime - margin(policy.refreshMargin, lifetime, policy.maxMarginRatio)
  const delay = Math.min(jittered, latest, Duration.toMillis(policy.maxRefreshInterval))
  return token.issuedAt + Math.max(0, delay)
}

/**
 * The delay before retry number `attempt` (1-based) of a failed refresh: exponential from `retryBase`, capped at
 * `retryMax`, with "equal jitter" (half fixed, half random) from a random number in [0, 1); at least `retryAfter`
 * when the server sent one.
 *
 * @since 0.1.0
 * @category timing
 */
export const retryDelay = (
  policy: RefreshPolicy,
  attempt: number,
  random: number,
  retryAfter?: Duration.Duration
): Duration.Duration => {
  const exponential = Math.min(
    Duration.toMillis(policy.retryMax),
    Duration.toMillis(policy.retryBase) * 2 ** Math.max(0, attempt - 1)
  )
  const jittered = exponential / 2 + (exponential / 2) * random
  const millis = retryAfter === undefined ? jittered : Math.max(jittered, Duration.toMillis(retryAfter))
  return Duration.millis(Math.round(millis))
}

const margin = (configured: Duration.Duration, lifetime: number, ratio: number): number =>
  Math.min(Duration.toMillis(configured), Math.max(0, lifetime) * ratio)

const duration = (input: Duration.DurationInput | undefined, fallback: Duration.Duration): Duration.Duration =>
  input === undefined ? fallback : Duration.decode(input)

const fraction = (name: string, value: number, zeroAllowed: boolean): void => {
  if (!(Number.isFinite(value) && value <= 1 && (zeroAllowed ? value >= 0 : value > 0))) {
    throw new RangeError(`RefreshPolicy.${name} must be a fraction in ${zeroAllowed ? "[0, 1]" : "(0, 1]"}`)
  }
}

const positive = (name: string, value: Duration.Duration): void => {
  if (!Duration.greaterThan(value, Duration.zero) || !Duration.isFinite(value)) {
    throw new RangeError(`RefreshPolicy.${name} must be a positive, finite duration`)
  }
}

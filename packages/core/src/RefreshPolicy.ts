/**
 * When a token is refreshed, when it stops being used, how failed fetches are retried and remembered: plain data.
 *
 * @since 0.1.0
 */
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { AccessToken } from "./AccessToken.js"

/**
 * The refresh policy. Every field has a default (see `defaults`) and bounds (see `make`); build one with
 * `make({ ... })`.
 *
 * - `refreshAt`: the fraction of the lifetime at which the token is refreshed (0.5: half-way).
 * - `refreshMargin`: refresh never later than `expiresAt − refreshMargin`.
 * - `expiryMargin`: the token is unusable from `expiresAt − expiryMargin` (covers clock drift and request time).
 * - `maxMarginRatio`: margins never exceed this fraction of the lifetime, so a token that lives seconds is still
 *   used for most of its life and refreshed about once per lifetime, never in a loop.
 * - `jitter`: ± fraction applied to the refresh delay so a fleet does not refresh in step.
 * - `defaultLifetime`: the lifetime assumed when the server sends no `expires_in`.
 * - `minRefreshInterval`: the floor under every schedule: a token is never refreshed ahead sooner than this after it
 *   was issued, and a rejected token is replaced at most once per interval. A token that lives less than this (plus
 *   its expiry margin) is not refreshed ahead at all: the next caller after it expires fetches a new one.
 * - `maxRefreshInterval`: refresh at least this often, whatever the lifetime (also keeps timers in range).
 * - `retryBase`, `retryMax`: jittered exponential backoff for transient refresh failures (doubling from the base,
 *   capped), retried for as long as the current token is usable; a `Retry-After` from the server is honoured.
 * - `failureCooldown`: how long a failed fetch is remembered (± `jitter`): callers with no usable token get the same
 *   typed error at once, with no request, until it passes. This bounds the load a loop of failing callers (a wrong
 *   secret, an endpoint down) puts on the provider; it is not a cache of the failure (a forced `refresh` bypasses
 *   it, and any success clears it).
 * - `maxRetryAfter`: the longest `Retry-After` honoured; a longer one (or an absurd one) counts as this.
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
  readonly minRefreshInterval: Duration.Duration
  readonly maxRefreshInterval: Duration.Duration
  readonly retryBase: Duration.Duration
  readonly retryMax: Duration.Duration
  readonly failureCooldown: Duration.Duration
  readonly maxRetryAfter: Duration.Duration
}

/**
 * The options of `make`: any field of `RefreshPolicy`, durations as any `Duration.DurationInput` (a bare number
 * is milliseconds, as everywhere in Effect).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = { readonly [K in keyof RefreshPolicy]?: Input<RefreshPolicy[K]> | undefined }

type Input<A> = A extends Duration.Duration ? Duration.DurationInput : A

/**
 * The defaults: refresh at 50 % of the lifetime, never later than expiry − 60 s, ±10 % jitter, unusable from
 * expiry − 30 s, margins at most a quarter of the lifetime, 1 hour when `expires_in` is missing, refreshes at least
 * 5 seconds apart and at least once a day, backoff from 200 ms doubling up to 30 s, a failed fetch remembered for
 * 3 seconds, `Retry-After` honoured up to 10 minutes.
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
  minRefreshInterval: Duration.seconds(5),
  maxRefreshInterval: Duration.hours(24),
  retryBase: Duration.millis(200),
  retryMax: Duration.seconds(30),
  failureCooldown: Duration.seconds(3),
  maxRetryAfter: Duration.minutes(10)
}

type Range = readonly [min: number, max: number]

// Sane bounds: outside them a policy could make the manager spin (a zero interval), overflow a timer (more than
// 24 days) or never use a token (margins eating the whole lifetime).
const fractions: { readonly [K in "refreshAt" | "maxMarginRatio" | "jitter"]: Range } = {
  refreshAt: [Number.MIN_VALUE, 1],
  maxMarginRatio: [0, 0.5],
  jitter: [0, 0.5]
}
const second = 1000
const day = 86_400_000
const durations: { readonly [K in Exclude<keyof RefreshPolicy, keyof typeof fractions>]: Range } = {
  refreshMargin: [0, day],
  expiryMargin: [0, day],
  defaultLifetime: [second, 365 * day],
  minRefreshInterval: [second, 3_600_000],
  maxRefreshInterval: [second, 7 * day],
  retryBase: [100, 60_000],
  retryMax: [100, 3_600_000],
  failureCooldown: [100, 600_000],
  maxRetryAfter: [second, 3_600_000]
}

const formatRange = ([min, max]: Range, format: (n: number) => string) =>
  `${min === Number.MIN_VALUE ? "above 0" : `from ${format(min)}`} to ${format(max)}`

const invalid = (field: string, message: string) => Either.left(ConfigError.InvalidData([field], message))

/**
 * Builds a policy from the defaults and the given overrides. A value of the wrong type or out of its bounds fails
 * with a `ConfigError.InvalidData` whose path and message name the field: `refreshAt` in (0, 1], `maxMarginRatio`
 * and `jitter` in [0, 0.5], margins up to a day, `defaultLifetime` from 1 second to a year, `minRefreshInterval`
 * from 1 second to an hour, `maxRefreshInterval` from `minRefreshInterval` to 7 days, `retryBase` from 100 ms to a
 * minute, `retryMax` from `retryBase` to an hour, `failureCooldown` from 100 ms to 10 minutes, `maxRetryAfter` from
 * 1 second to an hour.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Either.Either<RefreshPolicy, ConfigError.ConfigError> => {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return Either.left(ConfigError.InvalidData([], "the refresh policy must be an object of overrides"))
  }
  const policy: Record<string, unknown> = {}
  for (const [field, range] of Object.entries(fractions)) {
    const value: unknown = options[field as keyof Options] ?? defaults[field as keyof RefreshPolicy]
    if (typeof value !== "number" || !(value >= range[0] && value <= range[1])) {
      return invalid(field, `${field} must be a number ${formatRange(range, String)}`)
    }
    policy[field] = value
  }
  for (const [field, range] of Object.entries(durations)) {
    const input: unknown = options[field as keyof Options]
    // Effect reads NaN and negative numbers as zero: here they are mistakes to report, not durations.
    const decoded = input === undefined
      ? Option.some(defaults[field as keyof typeof durations])
      : typeof input === "number" && !(input >= 0)
      ? Option.none()
      : Duration.decodeUnknown(input)
    const millis = Option.isSome(decoded) ? Duration.toMillis(decoded.value) : Number.NaN
    if (!(millis >= range[0] && millis <= range[1])) {
      return invalid(field, `${field} must be a duration ${formatRange(range, (n) => Duration.format(n))}`)
    }
    policy[field] = decoded.pipe(Option.getOrThrow)
  }
  const result = policy as unknown as RefreshPolicy
  if (Duration.lessThan(result.maxRefreshInterval, result.minRefreshInterval)) {
    return invalid("maxRefreshInterval", "maxRefreshInterval must not be shorter than minRefreshInterval")
  }
  if (Duration.lessThan(result.retryMax, result.retryBase)) {
    return invalid("retryMax", "retryMax must not be shorter than retryBase")
  }
  return Either.right(result)
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
 * `maxMarginRatio` of the lifetime) nor than `maxRefreshInterval` after issue, and never sooner than
 * `minRefreshInterval` after issue. When that is not before `usableUntil`, the token is not refreshed ahead.
 *
 * @since 0.1.0
 * @category timing
 */
export const refreshPoint = (policy: RefreshPolicy, token: AccessToken, random: number): number => {
  const lifetime = Math.max(0, token.lifetimeMillis)
  const jittered = lifetime * policy.refreshAt * (1 + policy.jitter * (2 * random - 1))
  const latest = lifetime - margin(policy.refreshMargin, lifetime, policy.maxMarginRatio)
  const delay = Math.min(jittered, latest, Duration.toMillis(policy.maxRefreshInterval))
  return token.issuedAt + Math.ceil(Math.max(Duration.toMillis(policy.minRefreshInterval), delay))
}

/**
 * The delay before retry number `attempt` (1-based) of a failed refresh: exponential from `retryBase`, capped at
 * `retryMax`, with "equal jitter" (half fixed, half random) from a random number in [0, 1); at least `retryAfter`
 * (itself capped at `maxRetryAfter`) when the server sent one.
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
  const millis = retryAfter === undefined ? jittered : Math.max(jittered, cappedRetryAfter(policy, retryAfter))
  return Duration.millis(Math.round(millis))
}

/**
 * How long a failed fetch is remembered, given a random number in [0, 1): `failureCooldown` ± `jitter`, or the
 * server's `Retry-After` (capped at `maxRetryAfter`) when that is longer.
 *
 * @since 0.1.0
 * @category timing
 */
export const cooldown = (policy: RefreshPolicy, random: number, retryAfter?: Duration.Duration): number => {
  const base = Duration.toMillis(policy.failureCooldown) * (1 + policy.jitter * (2 * random - 1))
  return Math.round(retryAfter === undefined ? base : Math.max(base, cappedRetryAfter(policy, retryAfter)))
}

const cappedRetryAfter = (policy: RefreshPolicy, retryAfter: Duration.Duration): number => {
  const millis = Duration.toMillis(retryAfter)
  return Number.isNaN(millis) ? 0 : Math.min(Math.max(0, millis), Duration.toMillis(policy.maxRetryAfter))
}

const margin = (configured: Duration.Duration, lifetime: number, ratio: number): number =>
  Math.min(Duration.toMillis(configured), Math.max(0, lifetime) * ratio)

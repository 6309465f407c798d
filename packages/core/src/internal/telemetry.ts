import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { AccessToken } from "../AccessToken.js"
import type { TokenError } from "../OAuthError.js"

/** @internal */
export type FetchReason = "initial" | "expired" | "invalidated" | "scheduled" | "forced"

/** @internal */
export type TokenEvent = Data.TaggedEnum<{
  Fetched: {
    readonly reason: FetchReason
    readonly issuedAt: number
    readonly expiresAt: number
    readonly serverClockSkew: Option.Option<number>
  }
  Refreshed: {
    readonly reason: FetchReason
    readonly issuedAt: number
    readonly expiresAt: number
    readonly serverClockSkew: Option.Option<number>
  }
  Adopted: {
    readonly issuedAt: number
    readonly expiresAt: number
  }
  Failed: {
    readonly reason: FetchReason
    readonly error: TokenError["_tag"]
    readonly message: string
    readonly retryIn: Option.Option<Duration.Duration>
  }
  Invalidated: {}
  StoreUnavailable: { readonly detail: string }
  StoreRecovered: {}
}>

/** @internal */
export const TokenEvent = Data.taggedEnum<TokenEvent>()

const tokenRequests = Metric.counter("effect_oauth_token_requests_total", {
  description: "Token requests sent to the token endpoint, by outcome",
  incremental: true
})
const tokenFailures = Metric.counter("effect_oauth_token_failures_total", {
  description: "Failed token requests, by error tag",
  incremental: true
})
const tokenAge = Metric.gauge("effect_oauth_token_age_seconds", {
  description: "Age of the token that a new token replaced"
})

/**
 * Everything a manager reports: events on a sliding `PubSub` (a slow subscriber never blocks the manager), metrics
 * labelled `manager=<metricsLabel>`, and log lines annotated `oauth.manager=<name>`. Nothing here ever receives a
 * token value or a secret: events carry times, reasons and error tags; messages come from the sanitised errors.
 *
 * Log levels: a failure the caller receives as its error is logged at Debug (the caller decides what to log);
 * a failure of the background refresh, which no caller sees, at Warning; a fleet store outage at Warning, once.
 *
 * @internal
 */
export interface Telemetry {
  readonly events: Stream.Stream<TokenEvent>
  readonly succeeded: (
    reason: FetchReason,
    previous: AccessToken | undefined,
    token: AccessToken,
    now: number,
    replacedUsable: boolean
  ) => Effect.Effect<void>
  readonly requestFailed: (error: TokenError) => Effect.Effect<void>
  readonly failed: (
    reason: FetchReason,
    error: TokenError,
    retryIn: Option.Option<Duration.Duration>
  ) => Effect.Effect<void>
  readonly adopted: (token: AccessToken) => Effect.Effect<void>
  readonly invalidated: Effect.Effect<void>
  readonly storeUnavailable: (detail: string) => Effect.Effect<void>
  readonly storeRecovered: Effect.Effect<void>
  readonly annotate: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** @internal */
export const make = (
  name: string,
  metricsLabel: string,
  skewWarningMillis: number
): Effect.Effect<Telemetry, never, Scope.Scope> =>
  Effect.gen(function*() {
    const pubsub = yield* Effect.acquireRelease(PubSub.sliding<TokenEvent>(1024), PubSub.shutdown)
    const requests = Metric.tagged(tokenRequests, "manager", metricsLabel)
    const successes = Metric.tagged(requests, "outcome", "success")
    const requestFailures = Metric.tagged(requests, "outcome", "failure")
    const failures = Metric.tagged(tokenFailures, "manager", metricsLabel)
    const age = Metric.tagged(tokenAge, "manager", metricsLabel)
    const annotate = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.annotateLogs(effect, "oauth.manager", name)
    const publish = (event: TokenEvent) => PubSub.publish(pubsub, event)

    const succeeded: Telemetry["succeeded"] = (reason, previous, token, now, replacedUsable) =>
      Effect.gen(function*() {
        const fields = {
          reason,
          issuedAt: token.issuedAt,
          expiresAt: token.expiresAt,
          serverClockSkew: token.serverClockSkewMillis
        }
        yield* Metric.increment(successes)
        if (previous !== undefined) yield* Metric.set(age, (now - previous.issuedAt) / 1000)
        yield* publish(replacedUsable ? TokenEvent.Refreshed(fields) : TokenEvent.Fetched(fields))
        yield* Effect.logDebug("access token fetched").pipe(
          Effect.annotateLogs({ reason, expiresInSeconds: Math.round(token.lifetimeMillis / 1000) })
        )
        if (Option.isSome(fields.serverClockSkew)) {
          const skew = fields.serverClockSkew.value
          yield* Effect.annotateCurrentSpan("oauth.server_clock_skew_ms", skew)
          // Expiry runs on the local clock, so skew does not break refreshes; it does break a server's own expiry
          // checks and log correlation, which is why it is worth a warning.
          if (Math.abs(skew) > skewWarningMillis) {
            yield* Effect.logWarning("the token server's clock differs from the local clock").pipe(
              Effect.annotateLogs({ skewSeconds: Math.round(skew / 1000) })
            )
          }
        }
      }).pipe(annotate)

    const requestFailed = (error: TokenError) =>
      Effect.zipRight(Metric.increment(requestFailures), Metric.increment(Metric.tagged(failures, "error", error._tag)))

    const failed: Telemetry["failed"] = (reason, error, retryIn) => {
      const background = reason === "scheduled"
      const line = background ? "access token refresh failed" : "access token fetch failed"
      return Effect.zipRight(
        publish(TokenEvent.Failed({ reason, error: error._tag, message: error.message, retryIn })),
        (background ? Effect.logWarning(line) : Effect.logDebug(line)).pipe(
          Effect.annotateLogs({
            reason,
            error: error._tag,
            detail: error.message,
            retryIn: Option.match(retryIn, { onNone: () => "no retry", onSome: Duration.format })
          }),
          annotate
        )
      )
    }

    return {
      events: Stream.fromPubSub(pubsub),
      succeeded,
      requestFailed,
      failed,
      adopted: (token) =>
        Effect.zipRight(
          publish(TokenEvent.Adopted({ issuedAt: token.issuedAt, expiresAt: token.expiresAt })),
          annotate(Effect.logDebug("access token adopted from the token store"))
        ),
      invalidated: Effect.zipRight(
        publish(TokenEvent.Invalidated()),
        annotate(Effect.logInfo("access token invalidated after a rejection"))
      ),
      storeUnavailable: (detail) =>
        Effect.zipRight(
          publish(TokenEvent.StoreUnavailable({ detail })),
          annotate(
            Effect.logWarning("token store unavailable: working alone until it answers").pipe(
              Effect.annotateLogs({ detail })
            )
          )
        ),
      storeRecovered: Effect.zipRight(
        publish(TokenEvent.StoreRecovered()),
        annotate(Effect.logInfo("token store available again: sharing tokens"))
      ),
      annotate
    } satisfies Telemetry
  })

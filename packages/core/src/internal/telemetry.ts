import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
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

// Queued after a subscriber's last event when the manager closes: its stream ends there, with nothing dropped.
const end: unique symbol = Symbol("@effect-oauth/core/TokenManager/eventsEnd")

/**
 * Everything a manager reports: events to its subscribers (each on a sliding queue of 1024, so a slow subscriber never
 * blocks the manager; nothing is allocated for events until someone subscribes), metrics labelled
 * `manager=<metricsLabel>`, and log lines annotated `oauth.manager=<name>`. Nothing here ever receives a token value
 * or a secret: events carry times, reasons and error tags; messages come from the sanitised errors.
 *
 * Log levels: a failure the caller receives as its error is logged at Debug (the caller decides what to log);
 * a failure of the background refresh, which no caller sees, at Warning; a fleet store outage at Warning, once.
 *
 * @internal
 */
export class Telemetry {
  private subscribers: Set<Queue.Queue<TokenEvent | typeof end>> | undefined = undefined
  private closed = false

  constructor(
    private readonly name: string,
    private readonly metricsLabel: string,
    private readonly skewWarningMillis: number
  ) {}

  /** Events from the moment the stream starts; it ends when the manager closes. */
  get events(): Stream.Stream<TokenEvent> {
    const subscribe = Effect.acquireRelease(
      Effect.flatMap(Queue.sliding<TokenEvent | typeof end>(1024), (queue) =>
        Effect.sync(() => {
          if (this.closed) return undefined
          ;(this.subscribers ??= new Set()).add(queue)
          return queue
        })),
      (queue) =>
        queue === undefined ? Effect.void : Effect.suspend(() => {
          this.subscribers?.delete(queue)
          if (this.subscribers?.size === 0) this.subscribers = undefined
          return Queue.shutdown(queue)
        })
    )
    return Stream.unwrapScoped(
      Effect.map(subscribe, (queue) =>
        queue === undefined
          ? Stream.empty
          : Stream.takeWhile(Stream.fromQueue(queue), (event): event is TokenEvent => event !== end))
    )
  }

  private publish(event: TokenEvent): Effect.Effect<void> {
    return Effect.sync(() => {
      if (this.subscribers !== undefined) { for (const queue of this.subscribers) Queue.unsafeOffer(queue, event) }
    })
  }

  private metric<T extends Metric.Metric<any, any, any>>(metric: T): T {
    return Metric.tagged(metric, "manager", this.metricsLabel) as T
  }

  annotate<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.annotateLogs(effect, "oauth.manager", this.name)
  }

  succeeded(
    reason: FetchReason,
    previous: AccessToken | undefined,
    token: AccessToken,
    now: number,
    replacedUsable: boolean
  ): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      const fields = {
        reason,
        issuedAt: token.issuedAt,
        expiresAt: token.expiresAt,
        serverClockSkew: token.serverClockSkewMillis
      }
      yield* Metric.increment(Metric.tagged(this.metric(tokenRequests), "outcome", "success"))
      if (previous !== undefined) yield* Metric.set(this.metric(tokenAge), (now - previous.issuedAt) / 1000)
      yield* this.publish(replacedUsable ? TokenEvent.Refreshed(fields) : TokenEvent.Fetched(fields))
      yield* Effect.logDebug("access token fetched").pipe(
        Effect.annotateLogs({ reason, expiresInSeconds: Math.round(token.lifetimeMillis / 1000) })
      )
      if (Option.isSome(fields.serverClockSkew)) {
        const skew = fields.serverClockSkew.value
        yield* Effect.annotateCurrentSpan("oauth.server_clock_skew_ms", skew)
        // Expiry runs on the local clock, so skew does not break refreshes; it does break a server's own expiry
        // checks and log correlation, which is why it is worth a warning.
        if (Math.abs(skew) > this.skewWarningMillis) {
          yield* Effect.logWarning("the token server's clock differs from the local clock").pipe(
            Effect.annotateLogs({ skewSeconds: Math.round(skew / 1000) })
          )
        }
      }
    }).pipe((effect) => this.annotate(effect))
  }

  requestFailed(error: TokenError): Effect.Effect<void> {
    return Effect.zipRight(
      Metric.increment(Metric.tagged(this.metric(tokenRequests), "outcome", "failure")),
      Metric.increment(Metric.tagged(this.metric(tokenFailures), "error", error._tag))
    )
  }

  failed(reason: FetchReason, error: TokenError, retryIn: Option.Option<Duration.Duration>): Effect.Effect<void> {
    const background = reason === "scheduled"
    const line = background ? "access token refresh failed" : "access token fetch failed"
    return Effect.zipRight(
      this.publish(TokenEvent.Failed({ reason, error: error._tag, message: error.message, retryIn })),
      this.annotate(
        (background ? Effect.logWarning(line) : Effect.logDebug(line)).pipe(
          Effect.annotateLogs({
            reason,
            error: error._tag,
            detail: error.message,
            retryIn: Option.match(retryIn, { onNone: () => "no retry", onSome: Duration.format })
          })
        )
      )
    )
  }

  adopted(token: AccessToken): Effect.Effect<void> {
    return Effect.zipRight(
      this.publish(TokenEvent.Adopted({ issuedAt: token.issuedAt, expiresAt: token.expiresAt })),
      this.annotate(Effect.logDebug("access token adopted from the token store"))
    )
  }

  get invalidated(): Effect.Effect<void> {
    return Effect.zipRight(
      this.publish(TokenEvent.Invalidated()),
      this.annotate(Effect.logInfo("access token invalidated after a rejection"))
    )
  }

  storeUnavailable(detail: string): Effect.Effect<void> {
    return Effect.zipRight(
      this.publish(TokenEvent.StoreUnavailable({ detail })),
      this.annotate(
        Effect.logWarning("token store unavailable: working alone until it answers").pipe(
          Effect.annotateLogs({ detail })
        )
      )
    )
  }

  get storeRecovered(): Effect.Effect<void> {
    return Effect.zipRight(
      this.publish(TokenEvent.StoreRecovered()),
      this.annotate(Effect.logInfo("token store available again: sharing tokens"))
    )
  }

  /** Ends every subscriber's stream once it has read what was queued; later subscribers get an empty one. */
  get close(): Effect.Effect<void> {
    return Effect.sync(() => {
      this.closed = true
      const subscribers = this.subscribers
      this.subscribers = undefined
      if (subscribers !== undefined) { for (const queue of subscribers) Queue.unsafeOffer(queue, end) }
    })
  }
}

import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import { type AccessToken, isSameToken } from "../AccessToken.js"
import { isTransient } from "../OAuthError.js"
import * as RefreshPolicy from "../RefreshPolicy.js"
import type { Coordinator } from "./coordinator.js"
import type { Telemetry } from "./telemetry.js"

// Waits for the given time or a change of the token, whichever comes first; true when the token changed.
const sleepOrChange = (millis: number, changed: Deferred.Deferred<void>) =>
  Effect.raceFirst(Effect.as(Effect.sleep(Duration.millis(millis)), false), Effect.as(Deferred.await(changed), true))

/**
 * The refresh fiber: sleeps until the current token's refresh point, fetches a new one, and retries transient
 * failures with backoff for as long as the token stays usable. Every turn of its loop either sleeps or waits for the
 * token to change, so no token and no policy can make it spin: the refresh point is never sooner than
 * `minRefreshInterval` after issue nor after the last token request, and a token too short-lived for that is left to expire (the next caller then
 * fetches). A token given up on (a permanent error, or no retry fits before it becomes unusable) is left to expire
 * too, and the loop waits for the next one.
 *
 * @internal
 */
export const run = (
  policy: RefreshPolicy.RefreshPolicy,
  coordinator: Coordinator,
  telemetry: Telemetry
): Effect.Effect<never> => {
  // Refreshes `token`; false when it gave up on it.
  const refreshAhead = (token: AccessToken) =>
    Effect.gen(function*() {
      for (let attempt = 1;; attempt++) {
        const changed = yield* coordinator.changed
        // A defect (a bug in a custom endpoint or schema) must not kill the refresh fiber: it gives up on this token
        // like on a permanent error, and callers see the defect on their own fetch.
        const result = yield* Effect.either(coordinator.fetch("scheduled", token)).pipe(
          Effect.catchAllDefect((defect) =>
            Effect.as(Effect.logError("access token refresh died", Cause.die(defect)), undefined)
          )
        )
        if (result === undefined) return false
        if (Either.isRight(result)) return true
        const error = result.left
        const now = yield* Clock.currentTimeMillis
        const retryAfter = isTransient(error) ? error.retryAfter : undefined
        const delay = RefreshPolicy.retryDelay(policy, attempt, yield* Random.next, retryAfter)
        const retryAt = now + Duration.toMillis(delay)
        if (!isTransient(error) || retryAt >= RefreshPolicy.usableUntil(policy, token)) {
          yield* telemetry.failed("scheduled", error, Option.none())
          return false
        }
        yield* telemetry.failed("scheduled", error, Option.some(delay))
        // The token was replaced or dropped meanwhile: this one needs no more retries.
        if (yield* sleepOrChange(retryAt - now, changed)) return true
      }
    })

  return Effect.gen(function*() {
    let givenUp: AccessToken | undefined
    for (;;) {
      const changed = yield* coordinator.changed
      const { token } = yield* coordinator.local
      if (token === undefined || (givenUp !== undefined && isSameToken(givenUp, token))) {
        yield* Deferred.await(changed)
        continue
      }
      const now = yield* Clock.currentTimeMillis
      // The floor also runs from the last request as this manager saw it, whatever times the token carries (a
      // custom endpoint's, a store's): however old a token claims to be, refreshes stay `minRefreshInterval` apart.
      const lastRequest = Math.min(yield* coordinator.lastRequestAt, now)
      const at = Math.max(
        RefreshPolicy.refreshPoint(policy, token, yield* Random.next),
        lastRequest + Duration.toMillis(policy.minRefreshInterval)
      )
      if (at >= RefreshPolicy.usableUntil(policy, token)) {
        givenUp = token
        continue
      }
      if (at > now && (yield* sleepOrChange(at - now, changed))) continue
      if (!(yield* refreshAhead(token))) givenUp = token
    }
  })
}

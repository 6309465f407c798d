import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import { type AccessToken, isSameToken } from "../AccessToken.js"
import { isTransient } from "../OAuthError.js"
import * as RefreshPolicy from "../RefreshPolicy.js"
import * as Background from "./background.js"
import type { Coordinator } from "./coordinator.js"
import type { Telemetry } from "./telemetry.js"
import * as Wakeups from "./wakeups.js"

/**
 * The refresh schedule of one manager: a wake-up at the current token's refresh point (on the shared timer, see
 * `wakeups.ts`), where a fiber of its own fetches a new token and, on a transient failure, arranges a retry with
 * backoff for as long as the token stays usable. Between attempts nothing runs and no fiber waits.
 *
 * No token and no policy can make it spin: every change of the token (`reschedule`) replaces the pending wake-up;
 * the refresh point is never sooner than `minRefreshInterval` after issue nor after the last token request; a token
 * too short-lived for that, or given up on (a permanent error, or no retry fits before it becomes unusable), is left
 * to expire (the next caller then fetches) and nothing is scheduled until the token changes.
 *
 * @internal
 */
export class RefreshSchedule {
  private wakeup: Wakeups.Wakeup | undefined = undefined
  private attempt: Fiber.RuntimeFiber<void> | undefined = undefined
  // A wake-up that came while an attempt was still running (it fetched for a while): it runs next.
  private pending: readonly [AccessToken, number] | undefined = undefined
  private closed = false

  constructor(
    private readonly policy: RefreshPolicy.RefreshPolicy,
    private readonly telemetry: Telemetry,
    // What attempts inherit from the manager's creator (loggers, tracer, clock…).
    private readonly inherited: Background.Inherited,
    private readonly target: Coordinator
  ) {}

  /** Called after every change of the local token (`undefined`: none). */
  reschedule(token: AccessToken | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      // Changed again since (another fiber's fetch or store change, this fiber having yielded): that change's own
      // reschedule decides; cancelling here would drop the wake-up it may already have set.
      const current = this.target.local.token
      if (current === undefined ? token !== undefined : token === undefined || !isSameToken(current, token)) {
        return Effect.void
      }
      // Taken now, in the same step as the look: after a yield, `this.wakeup` may be the next change's.
      const previous = this.wakeup
      this.wakeup = undefined
      return Effect.zipRight(
        previous === undefined ? Effect.void : Wakeups.cancel(previous),
        token === undefined || this.closed
          ? Effect.void
          : Effect.flatMap(Random.next, (random) => this.scheduleAhead(token, random))
      )
    })
  }

  private scheduleAhead(token: AccessToken, random: number): Effect.Effect<void> {
    return Effect.suspend(() => {
      const now = this.target.clock.unsafeCurrentTimeMillis()
      // The floor also runs from the last request as this manager saw it, whatever times the token carries (a
      // custom endpoint's, a store's): however old a token claims to be, refreshes stay `minRefreshInterval` apart.
      const lastRequest = Math.min(this.target.lastRequestAt, now)
      const at = Math.max(
        RefreshPolicy.refreshPoint(this.policy, token, random),
        lastRequest + Duration.toMillis(this.policy.minRefreshInterval)
      )
      if (at >= RefreshPolicy.usableUntil(this.policy, token)) return Effect.void
      return this.wakeAt(at, token, 1)
    })
  }

  private wakeAt(at: number, token: AccessToken, attempt: number): Effect.Effect<void> {
    // On the manager's clock, whatever clock the fiber that changed the token runs with.
    const scheduled = Effect.withClock(Wakeups.schedule(at, () => this.start(token, attempt)), this.target.clock)
    return Effect.flatMap(scheduled, (wakeup) => {
      // Two changes of the token at once (a fetch and a store change, on two fibers) each reschedule, and a fiber may
      // yield mid-way: a wake-up for a token no longer held must not replace the one for the token that is.
      const current = this.target.local.token
      if (this.closed || current === undefined || !isSameToken(current, token)) return Wakeups.cancel(wakeup)
      const previous = this.wakeup
      this.wakeup = wakeup
      return previous === undefined ? Effect.void : Wakeups.cancel(previous)
    })
  }

  // On the shared timer fiber: hand the work to a fiber of this manager's own.
  private start(token: AccessToken, attempt: number) {
    this.wakeup = undefined
    if (this.closed) return
    if (this.attempt !== undefined) {
      this.pending = [token, attempt]
      return
    }
    const fiber = Background.runFork(this.inherited, this.telemetry.annotate(this.refresh(token, attempt)))
    this.attempt = fiber
    fiber.addObserver(() => {
      this.attempt = undefined
      const pending = this.pending
      this.pending = undefined
      if (pending !== undefined) this.start(pending[0], pending[1])
    })
  }

  private refresh(token: AccessToken, attempt: number): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      // A defect (a bug in a custom endpoint or schema) gives up on this token like a permanent error; callers see
      // the defect on their own fetch. The defect a fetch under way gets when the scope closes is no error.
      const result = yield* Effect.either(this.target.fetch("scheduled", token)).pipe(
        Effect.catchAllDefect((defect) =>
          this.closed || this.target.isClosing
            ? Effect.succeed(undefined)
            : Effect.as(Effect.logError("access token refresh died", Cause.die(defect)), undefined)
        )
      )
      if (result === undefined || Either.isRight(result)) return
      const error = result.left
      const now = this.target.clock.unsafeCurrentTimeMillis()
      const retryAfter = isTransient(error) ? error.retryAfter : undefined
      const delay = RefreshPolicy.retryDelay(this.policy, attempt, yield* Random.next, retryAfter)
      const retryAt = now + Duration.toMillis(delay)
      if (!isTransient(error) || retryAt >= RefreshPolicy.usableUntil(this.policy, token)) {
        yield* this.telemetry.failed("scheduled", error, Option.none())
        return
      }
      yield* this.telemetry.failed("scheduled", error, Option.some(delay))
      // The token was replaced or dropped meanwhile: its own schedule has taken over.
      const current = this.target.local.token
      if (current === undefined || !isSameToken(current, token) || this.wakeup !== undefined) return
      yield* this.wakeAt(retryAt, token, attempt + 1)
    })
  }

  private get cancelWakeup(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const wakeup = this.wakeup
      this.wakeup = undefined
      return wakeup === undefined ? Effect.void : Wakeups.cancel(wakeup)
    })
  }

  /** Cancels the pending wake-up and interrupts an attempt under way; nothing is scheduled afterwards. */
  get close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closed = true
      this.pending = undefined
      const attempt = this.attempt
      return Effect.zipRight(this.cancelWakeup, attempt === undefined ? Effect.void : Fiber.interrupt(attempt))
    })
  }
}

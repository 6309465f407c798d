import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { AccessToken } from "../../src/AccessToken.js"
import type { TokenError } from "../../src/OAuthError.js"
import type * as TokenEndpoint from "../../src/TokenEndpoint.js"

/** What the next token request answers: a token living `lifetime` seconds, an error, or a defect. */
export type Outcome = { readonly lifetime: number } | { readonly die: string } | TokenError

export interface FakeEndpoint {
  readonly endpoint: TokenEndpoint.Service
  /** Epoch ms (TestClock) of every request, in order. */
  readonly requests: Effect.Effect<ReadonlyArray<number>>
  /** Queues outcomes for the next requests; once they are used up, every request gets a token of `lifetime`. */
  readonly script: (...outcomes: ReadonlyArray<Outcome>) => Effect.Effect<void>
}

/** A token endpoint in memory, answering from a script, timed by the Clock. */
export const makeFakeEndpoint = (lifetime: number): Effect.Effect<FakeEndpoint> =>
  Effect.gen(function*() {
    const times = yield* Ref.make<ReadonlyArray<number>>([])
    const queue = yield* Ref.make<ReadonlyArray<Outcome>>([])
    const request = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const n = (yield* Ref.updateAndGet(times, (all) => [...all, now])).length
      const outcome = yield* Ref.modify(queue, ([head, ...rest]) => [head, rest] as const)
      if (outcome !== undefined && "_tag" in outcome) return yield* Effect.fail(outcome)
      if (outcome !== undefined && "die" in outcome) return yield* Effect.die(outcome.die)
      const seconds = outcome?.lifetime ?? lifetime
      return new AccessToken({
        value: Redacted.make(`token-${n}`),
        tokenType: "Bearer",
        issuedAt: now,
        expiresAt: now + seconds * 1000,
        scope: Option.none(),
        serverCreatedAt: Option.none()
      })
    })
    return {
      endpoint: { request },
      requests: Ref.get(times),
      script: (...outcomes) => Ref.update(queue, (q) => [...q, ...outcomes])
    }
  })

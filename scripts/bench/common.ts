/**
 * What the micro benchmarks share: an in-memory token endpoint answering at once with a one-hour token, a measuring
 * helper (one warm-up run, then one timed run) and a loop.
 */
import { AccessToken } from "@effect-oauth/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { performance } from "node:perf_hooks"

export const endpoint = {
  key: "https://auth.example.com/oauth/token client_id=bench",
  request: Effect.map(Clock.currentTimeMillis, (now) =>
    new AccessToken.AccessToken({
      value: Redacted.make("bench-token"),
      tokenType: "Bearer",
      issuedAt: now,
      expiresAt: now + 3_600_000,
      scope: Option.none(),
      serverCreatedAt: Option.none()
    }))
}

export const measure = <E>(label: string, operations: number, run: Effect.Effect<unknown, E>) =>
  Effect.gen(function*() {
    yield* run // warm-up: JIT and first fetch
    const start = performance.now()
    yield* run
    const elapsed = performance.now() - start
    const perOp = (elapsed * 1e6) / operations
    const perSecond = Math.round(operations / (elapsed / 1000))
    yield* Effect.log(`${label}: ${perSecond.toLocaleString("en-US")} ops/s, ${perOp.toFixed(0)} ns/op`)
  })

export const times = <A, E>(n: number, effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

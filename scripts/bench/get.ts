/**
 * Benchmark of the hot path: `TokenManager.get` on a warm cache (a Clock read and a Ref read), sequential and
 * with many concurrent callers. Run with `pnpm bench`. Prints operations per second and nanoseconds per operation.
 */
import { AccessToken, TokenManager } from "@effect-oauth/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { performance } from "node:perf_hooks"

const endpoint = {
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

const measure = <E>(label: string, operations: number, run: Effect.Effect<unknown, E>) =>
  Effect.gen(function*() {
    yield* run // warm-up: JIT and first fetch
    const start = performance.now()
    yield* run
    const elapsed = performance.now() - start
    const perOp = (elapsed * 1e6) / operations
    const perSecond = Math.round(operations / (elapsed / 1000))
    yield* Effect.log(`${label}: ${perSecond.toLocaleString("en-US")} ops/s, ${perOp.toFixed(0)} ns/op`)
  })

const times = <A, E>(n: number, effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

const program = Effect.gen(function*() {
  const manager = yield* TokenManager.make(endpoint)
  const n = 1_000_000
  // The floor: what one Ref read costs in the same loop, to compare the cache hit with.
  const ref = yield* Ref.make(0)
  yield* measure(`baseline Ref.get x${n}`, n, times(n, Ref.get(ref)))
  yield* measure(`sequential get x${n}`, n, times(n, manager.get))
  const callers = 1_000
  const each = 1_000
  yield* measure(
    `${callers} concurrent callers x${each} get`,
    callers * each,
    Effect.all(Array.from({ length: callers }, () => times(each, manager.get)), { concurrency: "unbounded" })
  )
})

// The pretty logger `NodeRuntime.runMain` installs for `pnpm example` and `pnpm demo`: one log format for every script.
Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Logger.pretty))).catch((error) => {
  console.error(error)
  process.exit(1)
})

/**
 * Benchmark of the hot path: `TokenManager.get` on a warm cache (a Clock read and a Ref read), sequential and
 * with many concurrent callers. Run with `pnpm bench`. Prints operations per second and nanoseconds per operation.
 */
import { TokenManager } from "@effect-oauth/core"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Ref from "effect/Ref"
import { endpoint, measure, times } from "./common.js"

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

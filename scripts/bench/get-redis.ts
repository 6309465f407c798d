/**
 * Benchmark of `TokenManager.get` with a token store: a warm cache with the in-memory store and with the Redis store
 * side by side (both a Clock read and a Ref read: the store is not on the hot path), and what a local miss costs when
 * Redis holds the token (one `slot.get` round trip to a local `redis-server`). Run by `pnpm bench` after `get.ts`;
 * without `redis-server` installed it says how to install it and skips the Redis rows.
 */
import { TokenManager, TokenStore } from "@effect-oauth/core"
import { RedisTokenStore } from "@effect-oauth/redis"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as RedisServer from "../redis-server.js"
import { endpoint, measure, times } from "./common.js"

const warm = (label: string, store: TokenStore.Service) =>
  Effect.gen(function*() {
    const manager = yield* TokenManager.make(endpoint, { store })
    const n = 1_000_000
    yield* measure(`${label}: warm get x${n}`, n, times(n, manager.get))
    yield* measure(
      `${label}: 1000 concurrent callers x1000 warm get`,
      1_000_000,
      Effect.all(Array.from({ length: 1_000 }, () => times(1_000, manager.get)), { concurrency: "unbounded" })
    )
  })

const program = Effect.gen(function*() {
  yield* warm("in-memory store", yield* TokenStore.makeMemory())
  const redis = yield* Effect.acquireRelease(
    Effect.promise(() => RedisServer.start()),
    (server) => Effect.sync(() => server?.stop())
  )
  if (redis === undefined) {
    return yield* Effect.log(`Redis rows skipped: no redis-server; ${RedisServer.installHint}`)
  }
  const store = yield* RedisTokenStore.make({ url: redis.url })
  yield* warm("Redis store", store)
  // A local miss answered by Redis: the read a manager does before adopting a token another process fetched.
  const slot = yield* store.slot(endpoint.key)
  yield* measure("Redis store: a local miss served from Redis (slot.get) x2000", 2_000, times(2_000, slot.get))
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Logger.pretty))).catch((error) => {
  console.error(error)
  process.exit(1)
})

/**
 * Benchmark of `TokenManager.get` with a token store: a warm cache with the in-memory store and with the Redis store
 * side by side (both a Clock read and a Ref read: the store is not on the hot path), and what a local miss costs when
 * Redis holds the token (one `slot.get` round trip to a local `redis-server`). Run by `pnpm bench` after `get.ts`;
 * without `redis-server` installed it says how to install it and skips the Redis rows.
 */
import { AccessToken, TokenManager, TokenStore } from "@effect-oauth/core"
import { RedisTokenStore } from "@effect-oauth/redis"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { performance } from "node:perf_hooks"
import * as RedisServer from "../redis-server.js"

const endpoint = {
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

/** Shared helpers of the Redis tests: tokens, a raw client for inspecting the server, a skewed clock. */
import { AccessToken } from "@effect-oauth/core/AccessToken"
import type * as TokenStore from "@effect-oauth/core/TokenStore"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { createClient } from "redis"

let counter = 0

/** A unique key prefix per test, so tests sharing one server never see each other's keys. */
export const uniquePrefix = (name: string): string => `test-${process.pid}-${++counter}-${name}:`

/** A token with `lifetimeMillis` from `now`. */
export const makeToken = (value: string, now: number, lifetimeMillis: number): AccessToken =>
  new AccessToken({
    value: Redacted.make(value),
    tokenType: "Bearer",
    issuedAt: now,
    expiresAt: now + lifetimeMillis,
    scope: Option.some("read write"),
    serverCreatedAt: Option.none()
  })

const newRawClient = (url: string) => createClient({ url })

export type RawClient = ReturnType<typeof newRawClient>

/** A plain node-redis client for looking at what the store wrote, closed with the scope. */
export const rawClient = (url: string): Effect.Effect<RawClient, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = newRawClient(url)
      client.on("error", () => {})
      await client.connect()
      return client
    }),
    (client) => Effect.promise(() => client.disconnect()).pipe(Effect.ignore)
  )

/** Every key on the server with everything readable in it (strings, hashes, lists, sets), as one text per key. */
export const dump = (client: RawClient): Effect.Effect<Array<{ key: string; type: string; content: string }>> =>
  Effect.promise(async () => {
    const out: Array<{ key: string; type: string; content: string }> = []
    for await (const keys of client.scanIterator({ COUNT: 100 })) {
      for (const key of keys) {
        const type = await client.type(key)
        const content = type === "string"
          ? String(await client.get(key))
          : type === "hash"
          ? JSON.stringify(await client.hGetAll(key))
          : type === "list"
          ? JSON.stringify(await client.lRange(key, 0, -1))
          : type === "set"
          ? JSON.stringify(await client.sMembers(key))
          : ""
        out.push({ key, type, content })
      }
    }
    return out
  })

/** The live clock, `skewMillis` ahead (or behind, when negative): another machine's clock. */
export const skewedClock = (skewMillis: number): Clock.Clock => {
  const base = Clock.make()
  const now = () => base.unsafeCurrentTimeMillis() + skewMillis
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: now,
    currentTimeMillis: Effect.sync(now),
    unsafeCurrentTimeNanos: () => BigInt(now()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now()) * 1_000_000n),
    sleep: (duration) => base.sleep(duration)
  }
}

/**
 * Publishes a new token (`${name}-${i}`) through `publisher` every 200 ms, 150 times at most, until `heard` ends:
 * an announcement sent while a listener's connection is down is lost, so one is not enough. Each claim is preceded
 * by a read, as a claim is fenced by the slot's last read. Failures (Redis still coming back) are ignored.
 */
export const publishUntilHeard = <A, E>(
  publisher: TokenStore.Slot,
  heard: Fiber.Fiber<A, E>,
  name: string
): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let i = 0; i < 150 && (yield* Fiber.poll(heard))._tag === "None"; i++) {
      yield* Effect.either(publisher.get)
      const claim = yield* Effect.either(publisher.claim)
      if (claim._tag === "Right" && claim.right._tag === "Claimed") {
        const now = yield* Clock.currentTimeMillis
        yield* Effect.either(publisher.publish(makeToken(`${name}-${i}`, now, 60_000), claim.right.lease))
      }
      yield* Effect.sleep("200 millis")
    }
  })

/**
 * Retries `effect` every 100 ms until it succeeds, for at most `within`: a failure detector for a store coming back
 * (Redis restarted, a connection reopened), sized for a loaded CI machine, not an expectation of speed.
 */
export const eventually = <A, E>(effect: Effect.Effect<A, E>, within: Duration.DurationInput): Effect.Effect<A, E> =>
  Effect.retry(effect, Schedule.spaced("100 millis").pipe(Schedule.upTo(within)))

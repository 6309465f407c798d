/**
 * One client's token in Redis: the `TokenStore.Slot` operations as Lua scripts over one connection, and the slot's
 * change stream from the store's subscriber connection. Every command is bounded by the command timeout and every
 * failure becomes a `StoreUnavailable` (never a defect); the manager then works alone until Redis answers again.
 *
 * @internal
 */
import type { AccessToken } from "@effect-oauth/core/AccessToken"
import * as TokenStore from "@effect-oauth/core/TokenStore"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Codec from "./codec.js"
import * as Keys from "./keys.js"
import * as Scripts from "./scripts.js"

/**
 * What a slot needs of the store: `run` evaluates a script (bounded, typed failure); `subscribe` listens on a
 * channel for the scope (it never fails: until a subscription succeeds, waiters look again after `pollInterval`).
 *
 * @internal
 */
export interface Connection {
  readonly run: (
    operation: string,
    script: string,
    keys: Array<string>,
    args: Array<string>
  ) => Effect.Effect<unknown, TokenStore.StoreUnavailable>
  readonly subscribe: (channel: string, listener: (message: string) => void) => Effect.Effect<void, never, Scope.Scope>
}

/** @internal */
export interface Settings {
  readonly prefix: string
  readonly leaseMillis: number
  readonly pollMillis: number
}

const unexpected = (operation: string) =>
  new TokenStore.StoreUnavailable({ detail: `redis ${operation}: unexpected reply` })

/** Opens the slot of `key` for the scope: subscribes to its changes, and unsubscribes at the end. @internal */
export const make = (
  settings: Settings,
  connection: Connection,
  codec: Codec.Codec,
  key: string
): Effect.Effect<TokenStore.Slot, never, Scope.Scope> =>
  Effect.gen(function*() {
    const names = yield* Keys.names(settings.prefix, key)
    const { run } = connection

    // What this slot last read (the digest of the stored value, "" for none): a claim succeeds only while it is
    // still there, so a manager that read the old token just before another process published the new one reads
    // again instead of fetching a third. The manager runs one fetch at a time per slot (get, then claim).
    let lastRead = "*"

    const get = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const reply = yield* run("get", Scripts.read, [names.token], [])
      if (!Array.isArray(reply) || reply.length !== 2) return yield* unexpected("get")
      const [value, remaining] = reply as [unknown, unknown]
      lastRead = Codec.digestOf(value)
      if (typeof value !== "string" || typeof remaining !== "number") return Option.none<AccessToken>()
      const opened = yield* codec.open(value, names.token, remaining, now)
      switch (opened._tag) {
        case "Token":
          return Option.some(opened.token)
        case "Absent":
          return Option.none<AccessToken>()
        case "Unreadable":
          return yield* new TokenStore.StoreUnavailable({
            detail: "the stored token cannot be decrypted with any of this process's keys"
          })
      }
    })

    const claim = Effect.gen(function*() {
      const id = globalThis.crypto.randomUUID()
      const reply = yield* run(
        "claim",
        Scripts.claim,
        [names.lease, names.token],
        [id, String(settings.leaseMillis), lastRead]
      )
      if (typeof reply !== "number") return yield* unexpected("claim")
      if (reply === -1) return TokenStore.Claim.Claimed({ lease: { id } })
      // The token changed since this slot read it: look again (the announcement is on its way, or already here).
      if (reply === 0) return TokenStore.Claim.Busy({ retryIn: Duration.millis(1) })
      // A waiter looks again after `pollInterval` at the latest, in case it missed the announcement.
      return TokenStore.Claim.Busy({ retryIn: Duration.millis(Math.min(reply, settings.pollMillis)) })
    })

    const publish = (token: AccessToken, lease: TokenStore.Lease) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const ttl = Math.max(0, Math.floor(token.expiresAt - now))
        const value = yield* codec.seal(token, names.token)
        yield* run(
          "publish",
          Scripts.publish,
          [names.token, names.lease],
          [value, String(ttl), lease.id, names.channel, `s:${ttl}:${value}`]
        )
      })

    const release = (lease: TokenStore.Lease) =>
      Effect.asVoid(run("release", Scripts.release, [names.lease], [lease.id]))

    const invalidate = (token: AccessToken) =>
      Effect.gen(function*() {
        const digest = yield* codec.digest(token)
        const reply = yield* run("invalidate", Scripts.invalidate, [names.token], [
          digest,
          names.channel,
          `d:${digest}`
        ])
        return reply === 1
      })

    // Announcements: `s:<ttl>:<value>` (a token with `ttl` ms left) or `d:<digest>` (removed). Anything else, or a
    // token this process cannot read, is ignored.
    const decodeMessage = (message: string): Effect.Effect<Option.Option<Option.Option<AccessToken>>> =>
      Effect.gen(function*() {
        if (message.startsWith("d:")) return Option.some(Option.none<AccessToken>())
        const match = /^s:(\d{1,15}):/.exec(message)
        if (match === null) return Option.none()
        const now = yield* Clock.currentTimeMillis
        const opened = yield* codec.open(message.slice(match[0].length), names.token, Number(match[1]), now)
        return opened._tag === "Token" ? Option.some(Option.some(opened.token)) : Option.none()
      }).pipe(Effect.catchAllDefect(() => Effect.succeedNone))

    const messages = yield* Effect.acquireRelease(Queue.sliding<string>(64), Queue.shutdown)
    yield* connection.subscribe(names.channel, (message) => {
      Queue.unsafeOffer(messages, message)
    })
    const changes = Stream.fromQueue(messages).pipe(Stream.mapEffect(decodeMessage), Stream.filterMap((x) => x))

    return { get, claim, publish, release, invalidate, changes } satisfies TokenStore.Slot
  })

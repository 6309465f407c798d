/**
 * A `TokenStore` on Redis, shared by every process and machine that runs a manager of the same client: one token per
 * client for the whole fleet, one token request at a time (a lease), fleet-wide fenced invalidation, changes pushed
 * to every process over pub/sub, optional AES-256-GCM encryption at rest, and fail-open behaviour when Redis is
 * down, slow or returns garbage. Works with Redis 6+ and Valkey through node-redis (the `redis` package).
 *
 * @since 0.1.0
 */
import * as TokenStore from "@effect-oauth/core/TokenStore"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { createClient } from "redis"
import * as Codec from "./internal/codec.js"
import * as Crypto from "./internal/crypto.js"
import * as Liveness from "./internal/liveness.js"
import * as Resolve from "./internal/options.js"
import * as Slot from "./internal/slot.js"

/**
 * What the store uses of a node-redis client (v4, v5 or v6; `createClient()`, or `createCluster()` / a Sentinel client
 * with the same methods): `eval` for every operation, `duplicate` for the subscriber connection that receives
 * changes, `connect` when it is not open yet.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisClient {
  readonly isOpen: boolean
  readonly isReady?: boolean | undefined
  readonly connect: () => Promise<unknown>
  readonly eval: (
    script: string,
    options: { readonly keys: Array<string>; readonly arguments: Array<string> }
  ) => Promise<unknown>
  readonly duplicate: () => RedisClient
  readonly subscribe: (channel: string, listener: (message: string, channel: string) => unknown) => Promise<unknown>
  readonly unsubscribe: (channel: string, listener: (message: string, channel: string) => unknown) => Promise<unknown>
  readonly on: (event: "error", listener: (error: unknown) => void) => unknown
  readonly disconnect: () => Promise<unknown>
  readonly ping?: (() => Promise<unknown>) | undefined
}

/**
 * Options of `make` and `layer`:
 * - `url`: `redis://[[user]:password@]host:port[/db]`, `rediss://…` (TLS) or `unix:` (a `Redacted` keeps a password
 *   out of logs); or `client`: your own node-redis client (connected by the store if it is not yet; never closed
 *   by it; its offline queue should be disabled so commands fail fast while Redis is down).
 * - `prefix`: of every key and channel, default `effect-oauth:`.
 * - `leaseTime`: how long one process may hold the right to fetch before another may take it (default 30 seconds;
 *   longer than a token request takes).
 * - `commandTimeout`: the bound of every command (default 500 ms); slower is a `StoreUnavailable`.
 * - `connectTimeout`: how long building the store waits for the connection (default 2 seconds); after that the
 *   managers start alone and share once Redis answers.
 * - `pollInterval`: the longest a manager waits for another process's token before looking again (default 1
 *   second), in case an announcement was missed during a reconnect.
 * - `encryptionKeys`: AES-256-GCM keys (32 bytes, base64, `Redacted`): values are sealed with the first and opened
 *   with any, so a new key goes first and the old one stays listed until the old tokens have expired.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly url?: string | Redacted.Redacted<string> | undefined
  readonly client?: RedisClient | undefined
  readonly prefix?: string | undefined
  readonly leaseTime?: Duration.DurationInput | undefined
  readonly commandTimeout?: Duration.DurationInput | undefined
  readonly connectTimeout?: Duration.DurationInput | undefined
  readonly pollInterval?: Duration.DurationInput | undefined
  readonly encryptionKeys?: ReadonlyArray<Redacted.Redacted<string>> | undefined
}

/**
 * A Redis token store for the current scope: connects (its own client from `url`, with the offline queue disabled
 * and reconnection capped at one second, or yours), opens a subscriber connection (`duplicate()`), keeps the
 * connections it opened answering (one that says it is ready but lets a PING go unanswered is reopened), and closes
 * them when the scope closes. Fails only with a `ConfigError` naming an invalid option; an unreachable Redis is
 * not an error (the managers work alone until it answers).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<TokenStore.Service, ConfigError.ConfigError, Scope.Scope> =
  Effect.fn("RedisTokenStore.make")(function*(options: Options) {
    const settings = yield* Resolve.resolve(options)
    const codec = Codec.make(yield* Crypto.importKeys(settings.keys))
    const owned = options.client === undefined
    const client: RedisClient = options.client ?? (createClient({
      url: Redacted.value(settings.url!),
      disableOfflineQueue: true,
      socket: {
        connectTimeout: settings.connectMillis,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000)
      }
    }) as unknown as RedisClient)
    if (owned) {
      client.on("error", () => {})
      yield* Effect.addFinalizer(() => Liveness.ignore(() => client.disconnect(), settings.connectMillis))
    }
    yield* Liveness.connect(client, settings.connectMillis, "command")
    const commands = owned ? yield* Liveness.keep(client, "command", settings) : undefined
    const subscriber = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const duplicate = client.duplicate()
        duplicate.on("error", () => {})
        return duplicate
      }),
      (duplicate) => Liveness.ignore(() => duplicate.disconnect(), settings.connectMillis)
    )
    yield* Liveness.connect(subscriber, settings.connectMillis, "subscriber")
    yield* Liveness.keep(subscriber, "subscriber", settings)

    const connection: Slot.Connection = {
      run: (operation, script, keys, args) =>
        Effect.tryPromise({
          try: () => client.eval(script, { keys, arguments: args }),
          catch: (error) =>
            new TokenStore.StoreUnavailable({ detail: `redis ${operation} failed: ${Liveness.errorName(error)}` })
        }).pipe(
          Effect.withSpan(`RedisTokenStore.${operation}`, { kind: "client" }),
          Effect.timeoutTo({
            duration: Duration.millis(settings.commandMillis),
            onSuccess: Effect.succeed,
            onTimeout: () =>
              Effect.zipRight(
                commands?.unanswered ?? Effect.void,
                new TokenStore.StoreUnavailable({
                  detail: `redis ${operation} got no answer within ${settings.commandMillis} ms`
                })
              )
          }),
          Effect.flatten
        ),
      // Subscribes for the slot's scope. A failed attempt (Redis down when the slot opens) is retried every
      // `pollInterval` in the background (node-redis resubscribes by itself only what was once subscribed); until
      // then managers wait at most `pollInterval` for another process's token.
      subscribe: (channel, listener) =>
        Effect.gen(function*() {
          const onMessage = (message: string) => listener(message)
          const attempt = Effect.tryPromise(() => subscriber.subscribe(channel, onMessage)).pipe(
            Effect.timeout(Duration.millis(settings.connectMillis))
          )
          yield* Effect.addFinalizer(() =>
            Liveness.ignore(() => subscriber.unsubscribe(channel, onMessage), settings.commandMillis)
          )
          const first = yield* Effect.either(attempt)
          if (first._tag === "Right") return
          yield* Effect.logWarning(
            `RedisTokenStore: no change subscription yet (${Liveness.errorName(first.left)}); retrying every ` +
              `${settings.pollMillis} ms, and managers look at Redis at least that often while waiting`
          )
          yield* Effect.forkScoped(
            Effect.retry(attempt, Schedule.spaced(Duration.millis(settings.pollMillis))).pipe(Effect.ignore)
          )
        })
    }

    return TokenStore.TokenStore.of({
      slot: (key) => Slot.make(settings, connection, codec, key)
    })
  })

/**
 * The store as a scoped layer (see `make`): managers built with `TokenManager.layer`, `Provider.layer` or a
 * provider's client layer in its scope share their tokens through Redis.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TokenStore.TokenStore, ConfigError.ConfigError> =>
  Layer.scoped(TokenStore.TokenStore, make(options))

/**
 * The store configured from the environment: `REDIS_URL` (read as `Config.redacted`; not needed when `options.client`
 * is given), `REDIS_TOKEN_ENCRYPTION_KEYS` (optional, comma-separated base64 keys, the first used for new values) and
 * `REDIS_TOKEN_PREFIX` (optional). Other options come from `options`. A missing or invalid variable is a
 * `ConfigError` naming it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Omit<Options, "url" | "encryptionKeys" | "prefix"> = {}
): Layer.Layer<TokenStore.TokenStore, ConfigError.ConfigError> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const url = options.client === undefined ? yield* Config.redacted("REDIS_URL") : undefined
    const keys = yield* Config.option(Config.redacted("REDIS_TOKEN_ENCRYPTION_KEYS"))
    const prefix = yield* Config.option(Config.string("REDIS_TOKEN_PREFIX"))
    const encryptionKeys = Option.match(keys, {
      onNone: () => undefined,
      onSome: (value) =>
        Redacted.value(value).split(",").map((item) => item.trim()).filter((item) => item.length > 0).map(
          (item) => Redacted.make(item)
        )
    })
    yield* Resolve.keys(encryptionKeys, ["REDIS_TOKEN_ENCRYPTION_KEYS"])
    return layer({ ...options, url, encryptionKeys, prefix: Option.getOrUndefined(prefix) })
  }))

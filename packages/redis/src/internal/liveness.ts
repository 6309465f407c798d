/**
 * Keeping the store's own connections alive. node-redis before 5.10 can report a connection ready on a socket that
 * died during its handshake after a Redis restart (redis/node-redis#3108), and a half-open TCP connection (a NAT or a
 * firewall that dropped its state) looks the same: ready, and no command ever answered. A connection the store owns
 * that lets a command or a periodic PING go unanswered while it says it is ready is closed and opened again (node-redis
 * subscribes a reopened connection to its channels again). A caller's own client is never closed or reopened.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"

/**
 * What liveness needs of a node-redis connection (v4, v5 or v6).
 *
 * @internal
 */
export interface Connection {
  readonly isOpen: boolean
  readonly isReady?: boolean | undefined
  readonly connect: () => Promise<unknown>
  readonly disconnect: () => Promise<unknown>
  readonly ping?: (() => Promise<unknown>) | undefined
}

/**
 * How often an owned connection that says it is ready is sent a PING.
 *
 * @internal
 */
export const pingInterval: Duration.Duration = Duration.seconds(5)

/**
 * The class of an error (node-redis names its errors: ClientOfflineError, ConnectionTimeoutError, …), never its
 * message, which may quote a command.
 *
 * @internal
 */
export const errorName = (error: unknown): string => {
  const cause = Cause.isUnknownException(error) ? error.error : error
  return cause instanceof Error ? (cause.name === "Error" ? cause.constructor.name : cause.name) : "unknown error"
}

/**
 * Waits for a promise-returning call at most `millis`, ignoring how it ends. Interruptible even in a finalizer
 * (which runs uninterruptibly, where a timeout would otherwise wait for the call): an `unsubscribe` on a connection
 * that never answers must not hold a scope's closing forever.
 *
 * @internal
 */
export const ignore = (thunk: () => Promise<unknown>, millis: number): Effect.Effect<void> =>
  Effect.interruptible(Effect.tryPromise(thunk)).pipe(Effect.timeout(Duration.millis(millis)), Effect.ignore)

/**
 * Connects `connection` unless it is open, waiting at most `millis`; not being ready in time is a warning (the
 * managers work alone meanwhile, and node-redis keeps trying in the background).
 *
 * @internal
 */
export const connect = (connection: Connection, millis: number, what: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (connection.isOpen) return Effect.void
    const connecting = connection.connect()
    connecting.catch(() => {})
    return Effect.tryPromise(() => connecting).pipe(
      Effect.timeoutFail({ duration: Duration.millis(millis), onTimeout: () => new Cause.TimeoutException() }),
      Effect.catchAll((error) =>
        Effect.logWarning(
          `RedisTokenStore: the ${what} connection is not ready (${errorName(error)}); token managers work alone ` +
            "and share once Redis answers"
        )
      )
    )
  })

/**
 * An owned connection's keeper, for the scope. `unanswered` (a command got no answer in time) checks the connection
 * in the background, once at a time: if it says it is ready and a PING gets no answer within `commandMillis`, it is
 * closed and opened again. The same check runs every `pingInterval`. A connection without `ping` is reopened at once.
 *
 * @internal
 */
export const keep = (
  connection: Connection,
  what: string,
  settings: { readonly commandMillis: number; readonly connectMillis: number }
): Effect.Effect<{ readonly unanswered: Effect.Effect<void> }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    let checking = false
    const ping = connection.ping
    // An answer to a PING within the command timeout: the connection is alive (an error reply is an answer too).
    const answers = ping === undefined ? Effect.succeed(false) : Effect.tryPromise(() => ping.call(connection)).pipe(
      Effect.timeout(Duration.millis(settings.commandMillis)),
      Effect.as(true),
      Effect.catchAll((error) => Effect.succeed(error._tag !== "TimeoutException"))
    )
    const reopen = Effect.logWarning(
      `RedisTokenStore: the ${what} connection says it is ready but a command got no answer within ` +
        `${settings.commandMillis} ms; reopening it`
    ).pipe(
      Effect.zipRight(ignore(() => connection.disconnect(), settings.connectMillis)),
      Effect.zipRight(connect(connection, settings.connectMillis, what))
    )
    // A slow command alone does not close the connection: a PING must go unanswered too.
    const check = Effect.suspend(() => {
      if (checking || connection.isReady === false || !connection.isOpen) return Effect.void
      checking = true
      return Effect.flatMap(answers, (alive) => alive ? Effect.void : reopen).pipe(
        Effect.ensuring(Effect.sync(() => {
          checking = false
        }))
      )
    })
    if (ping !== undefined) {
      yield* Effect.forkScoped(Effect.repeat(check, Schedule.spaced(pingInterval)).pipe(Effect.delay(pingInterval)))
    }
    const unanswered = Effect.asVoid(Effect.forkIn(check, scope))
    return { unanswered }
  })

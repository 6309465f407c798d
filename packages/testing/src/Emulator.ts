/**
 * An OAuth 2.0 client-credentials provider emulator: a real HTTP server on a local port that speaks the wire format
 * of Bringg Delivery Hub, DHL eCommerce Americas or a generic RFC 6749 server, with a control handle for clients,
 * secrets, tokens, faults, counters and a request log.
 *
 * @since 0.1.0
 */
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { Fault } from "./Fault.js"
import { start } from "./internal/server.js"

/**
 * The provider flavor one emulator speaks: `bringg` (`POST /oauth/token`, resources under `/services/`), `dhl`
 * (`POST /auth/v4/accesstoken`, every other path is a resource) or `rfc6749` (`POST /oauth/token`, resources under
 * `/api/`).
 *
 * @since 0.1.0
 */
export type Provider = "bringg" | "dhl" | "rfc6749"

/**
 * How a token request encoded its body, from its `Content-Type`: `form` (application/x-www-form-urlencoded),
 * `multipart` (multipart/form-data), `json` (application/json or `+json`), `other`, or `none` for an empty body
 * without a content type.
 *
 * @since 0.1.0
 */
export type Encoding = "form" | "multipart" | "json" | "other" | "none"

/**
 * How a token request presented client credentials: `basic` (an `Authorization: Basic` header), `post`
 * (`client_secret` in the body), both, or `none`.
 *
 * @since 0.1.0
 */
export type AuthMethod = "basic" | "post" | "basic+post" | "none"

/**
 * A client the emulator accepts. `scopes` are the scopes the client may request (rfc6749) and the scope of its
 * tokens; `tokenLifetime` overrides the emulator's default lifetime for this client (a Bringg `ttl` still wins);
 * `grantTypes` (default `["client_credentials"]`) lets a test register a client that authenticates but is not
 * allowed the grant, which Bringg and rfc6749 answer with `unauthorized_client`.
 *
 * @since 0.1.0
 */
export interface ClientOptions {
  readonly id: string
  readonly secret: string
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly tokenLifetime?: Duration.DurationInput | undefined
  readonly grantTypes?: ReadonlyArray<string> | undefined
}

/**
 * Options of one emulator. `port` defaults to 0 (a free port), `host` to `127.0.0.1`, `tokenLifetime` to one hour
 * (the lifetime in Bringg's "Authenticate Requests" sample and the 60 minutes of DHL eCommerce's Authentication API
 * v4), `oneTokenPerClient` to false. `logRequests` (default false) logs one line per request at Info level, naming
 * clients and tokens by serial number, never a secret or a token. `dhl` options apply to the DHL flavor only:
 * `invalidCredentialsStatus` is 400 as in DHL's Authentication API v4 documentation, or 401 as in another published
 * sample.
 *
 * @since 0.1.0
 */
export interface Options {
  readonly provider: Provider
  readonly port?: number | undefined
  readonly host?: string | undefined
  readonly clients?: ReadonlyArray<ClientOptions> | undefined
  readonly tokenLifetime?: Duration.DurationInput | undefined
  readonly oneTokenPerClient?: boolean | undefined
  readonly logRequests?: boolean | undefined
  readonly dhl?: { readonly invalidCredentialsStatus?: 400 | 401 | undefined } | undefined
}

/**
 * One request to the token endpoint as the emulator saw it. Body fields whose name mentions a secret, password,
 * assertion or token are masked as `***`, and a Basic header is recorded only as `authMethod` and `clientId`, so the
 * log never holds a secret. `at` is epoch milliseconds of the emulator's `Clock`; `fault` is the tag of the fault
 * applied, if any; `status` is absent when the connection was reset.
 *
 * @since 0.1.0
 */
export interface TokenRequest {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly contentType: string | undefined
  readonly encoding: Encoding
  readonly authMethod: AuthMethod
  readonly clientId: string | undefined
  readonly grantType: string | undefined
  readonly scope: string | undefined
  readonly ttl: string | undefined
  readonly fields: Readonly<Record<string, string>>
  readonly fault: Fault["_tag"] | undefined
  readonly status: number | undefined
}

/**
 * Counters since start or the last `reset`: every request to the token endpoint (per client id it named, from the
 * Basic header or the body), tokens actually issued, requests to resource endpoints and how many of those were
 * refused for a missing, unknown, revoked, disabled or expired token.
 *
 * @since 0.1.0
 */
export interface Stats {
  readonly tokenRequests: number
  readonly tokenRequestsByClient: Readonly<Record<string, number>>
  readonly tokensIssued: number
  readonly resourceRequests: number
  readonly resourceRejections: number
}

/**
 * The failure of `regenerateSecret` for a client id the emulator does not know.
 *
 * @since 0.1.0
 */
export class UnknownClient extends Data.TaggedError("UnknownClient")<{ readonly clientId: string }> {}

/**
 * The control handle of a running emulator. `registerClient` adds or replaces a client (replacing disables the old
 * registration's tokens); `regenerateSecret` gives a client a new secret (random unless given) and, as Bringg's
 * "Authenticate Requests" page describes, disables the old secret and every token issued with it; `revokeToken`
 * reports whether the token existed; `revokeClientTokens` and `expireClientTokens` revoke, or end the lifetime of,
 * every live token of a client and return how many; `injectFault` queues a fault for the next `times` (default 1; `Infinity` until `clearFaults`) POSTs to
 * the token endpoint, after any faults already queued; `reset` clears counters and the request log, not clients, tokens or faults.
 *
 * @since 0.1.0
 */
export interface Handle {
  readonly provider: Provider
  readonly baseUrl: string
  readonly tokenUrl: string
  readonly registerClient: (client: ClientOptions) => Effect.Effect<void>
  readonly regenerateSecret: (clientId: string, secret?: string) => Effect.Effect<string, UnknownClient>
  readonly revokeToken: (token: string) => Effect.Effect<boolean>
  readonly revokeClientTokens: (clientId: string) => Effect.Effect<number, UnknownClient>
  readonly expireClientTokens: (clientId: string) => Effect.Effect<number, UnknownClient>
  readonly setOneTokenPerClient: (enabled: boolean) => Effect.Effect<void>
  readonly injectFault: (fault: Fault, options?: { readonly times?: number | undefined }) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
  readonly requests: Effect.Effect<ReadonlyArray<TokenRequest>>
  readonly reset: Effect.Effect<void>
}

/**
 * The running emulator as a service, provided by `layer`.
 *
 * @since 0.1.0
 */
export class Emulator extends Context.Tag("@effect-oauth/testing/Emulator")<Emulator, Handle>() {}

/**
 * Starts an emulator listening on `options.host`:`options.port` and returns its handle; the server stops, closing
 * its connections, when the scope closes. Issue times, expiry and injected latency follow the `Clock` of the
 * context this runs in, so under `TestClock` a test expires tokens with `TestClock.adjust`.
 *
 * @since 0.1.0
 */
export const make: (options: Options) => Effect.Effect<Handle, HttpServerError.ServeError, Scope.Scope> = Effect.fn(
  "Emulator.make"
)(function*(options: Options) {
  const { baseUrl, store, tokenUrl } = yield* start(options)
  return {
    provider: options.provider,
    baseUrl,
    tokenUrl,
    registerClient: Effect.fn("Emulator.registerClient")(function*(client: ClientOptions) {
      yield* store.registerClient(client)
    }),
    regenerateSecret: Effect.fn("Emulator.regenerateSecret")(function*(clientId: string, secret?: string) {
      const next = yield* store.regenerateSecret(clientId, secret)
      if (Option.isNone(next)) return yield* new UnknownClient({ clientId })
      return next.value
    }),
    revokeToken: Effect.fn("Emulator.revokeToken")(function*(token: string) {
      return yield* store.revoke(token)
    }),
    revokeClientTokens: Effect.fn("Emulator.revokeClientTokens")(function*(clientId: string) {
      const count = yield* store.revokeClient(clientId)
      if (Option.isNone(count)) return yield* new UnknownClient({ clientId })
      return count.value
    }),
    expireClientTokens: Effect.fn("Emulator.expireClientTokens")(function*(clientId: string) {
      const count = yield* store.expireClient(clientId)
      if (Option.isNone(count)) return yield* new UnknownClient({ clientId })
      return count.value
    }),
    setOneTokenPerClient: Effect.fn("Emulator.setOneTokenPerClient")(function*(enabled: boolean) {
      yield* store.setOneTokenPerClient(enabled)
    }),
    injectFault: Effect.fn("Emulator.injectFault")(
      function*(fault: Fault, options?: { readonly times?: number | undefined }) {
        yield* store.injectFault(fault, options?.times ?? 1)
      }
    ),
    clearFaults: store.clearFaults,
    stats: store.stats,
    requests: store.requests,
    reset: store.reset
  }
})

/**
 * The emulator as a scoped layer: it starts when the layer is built and stops when the layer's scope closes.
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<Emulator, HttpServerError.ServeError> =>
  Layer.scoped(Emulator, make(options))

/**
 * Runs an emulator until interrupted, logging its base URL, token URL and registered client ids, then one line per
 * request (as `logRequests`): an emulator for a program of your own. The `effect-oauth emulator` command of
 * `@effect-oauth/cli` is the ready standalone one.
 *
 * @since 0.1.0
 */
export const serve = (options: Options): Effect.Effect<never, HttpServerError.ServeError> =>
  Effect.scoped(Effect.gen(function*() {
    const emulator = yield* make({ ...options, logRequests: options.logRequests ?? true })
    const clientIds = (options.clients ?? []).map((client) => client.id)
    yield* Effect.logInfo(`${options.provider} emulator listening on ${emulator.baseUrl}`).pipe(
      Effect.annotateLogs({ tokenUrl: emulator.tokenUrl, clients: clientIds.join(", ") })
    )
    return yield* Effect.never
  }))

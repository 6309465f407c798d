import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Fault from "../Fault.js"
import { pathOf } from "./request.js"
import type { RequestLog } from "./requestLog.js"
import type { Store } from "./store.js"

/** Where the admin API lives on every emulator; documented in the package README. */
export const adminPrefix = "/_emulator"

const Times = Schema.optionalWith(Schema.Union(Schema.Int.pipe(Schema.positive()), Schema.Literal("always")), {
  default: () => 1
})
const Seconds = Schema.Number.pipe(Schema.nonNegative())

/** The body of `POST /_emulator/faults`: one fault and how many token requests it applies to. */
const FaultRequest = Schema.Union(
  Schema.Struct({
    type: Schema.Literal("status"),
    status: Schema.Int.pipe(Schema.between(100, 599)),
    retryAfter: Schema.optional(Seconds),
    times: Times
  }),
  Schema.Struct({ type: Schema.Literal("latency"), seconds: Seconds, times: Times }),
  Schema.Struct({ type: Schema.Literal("reset", "malformed", "revoked"), times: Times })
)

const toFault = (request: typeof FaultRequest.Type): Fault.Fault => {
  switch (request.type) {
    case "status":
      return Fault.status(request.status, {
        retryAfter: request.retryAfter === undefined ? undefined : Duration.seconds(request.retryAfter)
      })
    case "latency":
      return Fault.latency(Duration.seconds(request.seconds))
    case "reset":
      return Fault.connectionReset
    case "malformed":
      return Fault.malformedJson
    case "revoked":
      return Fault.revokedOnIssue
  }
}

const SecretRequest = Schema.Struct({ secret: Schema.optional(Schema.NonEmptyString) })

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

const problem = (status: number, message: string) => json({ error: message }, status)

const unknownClient = (clientId: string) => problem(404, `unknown client ${clientId}`)

/** Reads a JSON body against `schema`; an empty body reads as `{}`. */
const body = <A, I>(schema: Schema.Schema<A, I>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Effect.orElseSucceed(request.text, () => "")
    const parsed = yield* Effect.try(() => text.trim() === "" ? {} : JSON.parse(text) as unknown).pipe(
      Effect.mapError(() => "the body is not JSON")
    )
    return yield* Schema.decodeUnknown(schema)(parsed).pipe(
      Effect.mapError((error) => ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s+/g, " "))
    )
  })

const clientId = Effect.map(HttpRouter.params, (params) => params["clientId"] ?? "")

/** Runs a client action: 404 for an unknown client, else `{ clientId, <key>: count }`. */
const perClient = (key: string, action: (clientId: string) => Effect.Effect<Option.Option<number>>) =>
  Effect.gen(function*() {
    const id = yield* clientId
    return Option.match(yield* action(id), {
      onNone: () => unknownClient(id),
      onSome: (count) => json({ clientId: id, [key]: count })
    })
  })

/**
 * The admin API: counters and the request log, revoking or expiring a client's tokens, a new secret, and the fault
 * queue. Each request is written to the request log with its method, path and status, never a body.
 */
export const adminRoutes = (store: Store, log: RequestLog): HttpRouter.HttpRouter =>
  HttpRouter.empty.pipe(
    HttpRouter.get(`${adminPrefix}/stats`, Effect.map(store.stats, (stats) => json(stats))),
    HttpRouter.get(`${adminPrefix}/requests`, Effect.map(store.requests, (requests) => json(requests))),
    HttpRouter.post(`${adminPrefix}/reset`, Effect.as(store.reset, json({ reset: true }))),
    HttpRouter.post(`${adminPrefix}/clients/:clientId/revoke`, perClient("revoked", store.revokeClient)),
    HttpRouter.post(`${adminPrefix}/clients/:clientId/expire`, perClient("expired", store.expireClient)),
    HttpRouter.post(
      `${adminPrefix}/clients/:clientId/secret`,
      Effect.gen(function*() {
        const id = yield* clientId
        const request = yield* body(SecretRequest)
        return Option.match(yield* store.regenerateSecret(id, request.secret), {
          onNone: () => unknownClient(id),
          onSome: (secret) => json({ clientId: id, secret })
        })
      }).pipe(Effect.catchAll((message) => Effect.succeed(problem(400, message))))
    ),
    HttpRouter.post(
      `${adminPrefix}/faults`,
      Effect.gen(function*() {
        const request = yield* body(FaultRequest)
        yield* store.injectFault(toFault(request), request.times === "always" ? Infinity : request.times)
        return json({ queued: request }, 201)
      }).pipe(Effect.catchAll((message) => Effect.succeed(problem(400, message))))
    ),
    HttpRouter.del(`${adminPrefix}/faults`, Effect.as(store.clearFaults, json({ cleared: true }))),
    HttpRouter.use(Effect.tap((response) =>
      Effect.flatMap(
        HttpServerRequest.HttpServerRequest,
        (request) => log(`${request.method} ${pathOf(request.url)} → ${response.status}`)
      )
    ))
  )

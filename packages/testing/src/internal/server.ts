import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type { Options, Provider, TokenRequest } from "../Emulator.js"
import type { Fault } from "../Fault.js"
import { adminRoutes } from "./admin.js"
import { bringg } from "./bringg.js"
import { dhl } from "./dhl.js"
import type { Flavor, FlavorContext } from "./flavor.js"
import * as OAuth from "./oauth.js"
import type { TokenRequestInput } from "./request.js"
import { authMethodOf, maskedFields, pathOf, readTokenRequest, requestClientId } from "./request.js"
import type { Issued, RequestLog } from "./requestLog.js"
import { describeResourceRequest, describeTokenRequest } from "./requestLog.js"
import { rfc6749 } from "./rfc6749.js"
import type { Store } from "./store.js"
import { makeStore } from "./store.js"

const flavors: Record<Provider, (context: FlavorContext) => Flavor> = { bringg, dhl, rfc6749 }

/** A running emulator: where it listens and the state its control handle acts on. */
export interface Running {
  readonly baseUrl: string
  readonly tokenUrl: string
  readonly store: Store
}

const htmlPage = (status: number) => {
  const title = `${status} ${Http.STATUS_CODES[status] ?? "Error"}`
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
}

const retryAfterHeader = (retryAfter: Option.Option<Duration.Duration>): Record<string, string> =>
  Option.match(retryAfter, {
    onNone: () => ({}),
    onSome: (duration) => ({ "retry-after": String(Math.ceil(Duration.toSeconds(duration))) })
  })

// Ending the response marks it handled: the platform then skips writing to a dead socket, a write that never
// completes and would leave the request fiber pending forever.
const endResponse = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.sync(() => NodeHttpServerRequest.toServerResponse(request).end())

const resetConnection = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.zipRight(
    Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()),
    endResponse(request)
  )

interface Answer {
  readonly response: HttpServerResponse.HttpServerResponse
  readonly issued: Option.Option<Issued>
}

const issue = (
  flavor: Flavor,
  store: Store,
  input: TokenRequestInput,
  fault: Option.Option<Fault>
): Effect.Effect<Answer> =>
  Effect.gen(function*() {
    const active = Option.getOrUndefined(fault)
    const outcome = yield* flavor.token(input, active?._tag === "ClockSkew" ? active.skewMillis : 0)
    if (outcome._tag === "Rejected") return { response: outcome.response, issued: Option.none() }
    const body = { ...outcome.body }
    const value = body["access_token"]
    const token = typeof value === "string" ? yield* store.find(value) : Option.none()
    const issued = Option.map(token, (t) => ({ serial: t.serial, lifetimeMillis: t.expiresAt - t.issuedAt }))
    switch (active?._tag) {
      case "WrongContentType":
        return {
          response: HttpServerResponse.text(JSON.stringify(body), { contentType: "text/plain; charset=utf-8" }),
          issued
        }
      case "MissingFields":
        for (const field of active.fields) delete body[field]
        break
      case "ExpiresIn":
        body["expires_in"] = active.value
        break
      case "RevokedOnIssue":
        if (typeof value === "string") yield* store.revoke(value)
        break
    }
    return { response: OAuth.oauthSuccess(body), issued }
  })

const replaced = (response: HttpServerResponse.HttpServerResponse): Option.Option<Answer> =>
  Option.some({ response, issued: Option.none() })

/** The answer to a POST on the token endpoint under the next queued fault; `None` when the connection is reset. */
const answer = (
  flavor: Flavor,
  store: Store,
  request: HttpServerRequest.HttpServerRequest,
  input: TokenRequestInput,
  fault: Option.Option<Fault>
): Effect.Effect<Option.Option<Answer>> => {
  if (Option.isNone(fault)) return Effect.asSome(issue(flavor, store, input, fault))
  const active = fault.value
  switch (active._tag) {
    case "Latency":
      return Effect.sleep(active.duration).pipe(
        // A client that gives up (or the emulator closing) interrupts the wait.
        Effect.onInterrupt(() => endResponse(request)),
        Effect.interruptible,
        Effect.zipRight(issue(flavor, store, input, Option.none())),
        Effect.asSome
      )
    case "Status":
      return Effect.succeed(replaced(flavor.failure(active.status, retryAfterHeader(active.retryAfter))))
    case "ConnectionReset":
      return Effect.as(resetConnection(request), Option.none())
    case "MalformedJson":
      return Effect.succeed(
        replaced(HttpServerResponse.text("{\"access_token\":\"", { contentType: "application/json" }))
      )
    case "HtmlError":
      return Effect.succeed(replaced(
        HttpServerResponse.text(htmlPage(active.status), {
          status: active.status,
          contentType: "text/html; charset=utf-8"
        })
      ))
    case "WrongContentType":
    case "MissingFields":
    case "ExpiresIn":
    case "ClockSkew":
    case "RevokedOnIssue":
      return Effect.asSome(issue(flavor, store, input, fault))
  }
}

const tokenEndpoint = (flavor: Flavor, store: Store, log: RequestLog) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const at = yield* Clock.currentTimeMillis
    const input = yield* readTokenRequest(request)
    yield* store.countTokenRequest(requestClientId(input))
    const fault = input.method === "POST" ? yield* store.takeFault : Option.none()
    const answered = input.method === "POST"
      ? yield* answer(flavor, store, request, input, fault)
      : replaced(flavor.methodNotAllowed)
    const entry: TokenRequest = {
      at,
      method: input.method,
      path: input.path,
      contentType: input.contentType,
      encoding: input.encoding,
      authMethod: authMethodOf(input),
      clientId: requestClientId(input),
      grantType: input.fields["grant_type"],
      scope: input.fields["scope"],
      ttl: input.fields["ttl"],
      fields: maskedFields(input.fields),
      fault: Option.getOrUndefined(Option.map(fault, (f) => f._tag)),
      status: Option.getOrUndefined(Option.map(answered, (a) => a.response.status))
    }
    yield* store.record(entry)
    yield* log(describeTokenRequest(entry, Option.flatMap(answered, (a) => a.issued)))
    return Option.match(answered, { onNone: () => HttpServerResponse.empty(), onSome: (a) => a.response })
  })

const bearerToken = (authorization: string | undefined): Option.Option<string> =>
  Option.fromNullable(authorization?.match(/^\s*bearer\s+(\S+)\s*$/i)?.[1])

const resourceEndpoint = (flavor: Flavor, store: Store, log: RequestLog) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const check = yield* store.check(bearerToken(request.headers["authorization"]))
    yield* store.countResourceRequest(check._tag !== "Valid")
    const response = flavor.resource(check, request.method, pathOf(request.url))
    yield* log(describeResourceRequest(request.method, pathOf(request.url), check, response.status))
    return response
  })

const urlOf = (address: HttpServer.Address) =>
  address._tag === "UnixAddress"
    ? `http://localhost`
    : `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`

/** Starts the server; it stops, closing every open connection, when the scope closes. */
export const start = (options: Options): Effect.Effect<Running, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    // Handlers run on the server's own fibers: give them the Clock of the context that started the emulator, so
    // a TestClock there governs issue times, expiry and injected latency.
    const clock = yield* Effect.clock
    const store = yield* makeStore(options.oneTokenPerClient ?? false)
    for (const client of options.clients ?? []) yield* store.registerClient(client)
    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, {
      port: options.port ?? 0,
      host: options.host ?? "127.0.0.1"
    })
    // Runs before the platform's `server.close`, which waits for open connections: a request held by injected
    // latency would keep the scope from closing.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    const baseUrl = urlOf(server.address)
    const flavor = flavors[options.provider]({
      store,
      baseUrl,
      defaultLifetime: Duration.decode(options.tokenLifetime ?? Duration.hours(1)),
      invalidCredentialsStatus: options.dhl?.invalidCredentialsStatus ?? 400
    })
    const log: RequestLog = options.logRequests === true ? (line) => Effect.logInfo(line) : () => Effect.void
    const app = HttpRouter.empty.pipe(
      HttpRouter.concat(adminRoutes(store, log)),
      HttpRouter.all(flavor.tokenPath, tokenEndpoint(flavor, store, log)),
      HttpRouter.all(flavor.resourceRoute, resourceEndpoint(flavor, store, log)),
      Effect.catchTag(
        "RouteNotFound",
        (error) => Effect.succeed(OAuth.notFound(error.request.method, pathOf(error.request.url)))
      ),
      Effect.withClock(clock)
    )
    yield* server.serve(app)
    return { baseUrl, tokenUrl: `${baseUrl}${flavor.tokenPath}`, store }
  })

import { Recorder } from "@effect-oauth/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import type * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Predicate from "effect/Predicate"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as AuthorizedClient from "../src/AuthorizedClient.js"
import * as OAuthError from "../src/OAuthError.js"
import * as TokenManager from "../src/TokenManager.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"

const bearer = (n: number) => `Bearer token-${n}`

// A resource server accepting the tokens in `accepted` (mutable: tests revoke and grant), 401 otherwise.
const acceptOnly = (accepted: Set<string>, rejection = "{}"): HttpTestServer.Handler => (request) =>
  accepted.has(request.headers.authorization ?? "")
    ? { status: 200, body: `ok ${request.url}` }
    : { status: 401, headers: { "content-type": "application/json" }, body: rejection }

const ok: HttpTestServer.Handler = () => ({ status: 200, body: "ok" })

const at = (server: HttpTestServer.HttpTestServer, path: string) => server.origin + path

const setup = (handler: HttpTestServer.Handler, options: Partial<AuthorizedClient.Options> = {}) =>
  Effect.gen(function*() {
    const api = yield* HttpTestServer.make(handler)
    const fake = yield* makeFakeEndpoint(3600)
    const manager = yield* TokenManager.make(fake.endpoint)
    const client = yield* AuthorizedClient.make(yield* HttpClient.HttpClient, manager, {
      origins: [api.origin],
      ...options
    })
    return { api, fake, manager, client }
  })

const authorizations = (received: ReadonlyArray<HttpTestServer.RecordedRequest>) =>
  received.map((request) => request.headers.authorization)

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["undici", NodeHttpClient.layerUndici],
  ["fetch", FetchHttpClient.layer]
]

// DHL answers an expired token with 401 and a problem body titled "Access token expired".
const dhlExpired: AuthorizedClient.IsTokenRejected = (response) =>
  response.status === 401 &&
  Effect.map(
    response.json,
    (body) => Predicate.hasProperty(body, "title") && body.title === "Access token expired"
  )

describe("AuthorizedClient", () => {
  for (const [name, layer] of clients) {
    const run = <A, E>(self: Effect.Effect<A, E, HttpClient.HttpClient | Scope.Scope>) => Effect.provide(self, layer)

    describe(`over ${name}`, () => {
      it.scoped("200 concurrent requests rejected at once cause one token refetch, and all succeed", () =>
        run(Effect.gen(function*() {
          const accepted = new Set([bearer(1)])
          const { api, client, fake } = yield* setup(acceptOnly(accepted))
          assert.strictEqual((yield* client.get(at(api, "/warm"))).status, 200)
          // The server revokes token-1 and would accept the next one.
          accepted.clear()
          accepted.add(bearer(2))
          const responses = yield* Effect.all(
            Array.from(
              { length: 200 },
              (_, i) => Effect.flatMap(client.get(at(api, `/orders/${i}`)), (response) => response.text)
            ),
            { concurrency: "unbounded" }
          )
          assert.deepStrictEqual(responses, Array.from({ length: 200 }, (_, i) => `ok /orders/${i}`))
          assert.strictEqual((yield* fake.requests).length, 2)
          const received = (yield* api.requests).slice(1)
          const rejected = received.filter((request) => request.headers.authorization === bearer(1))
          const fresh = received.filter((request) => request.headers.authorization === bearer(2))
          assert.strictEqual(fresh.length, 200)
          assert.strictEqual(new Set(fresh.map((request) => request.url)).size, 200)
          assert.isAtLeast(rejected.length, 1)
          assert.strictEqual(rejected.length + fresh.length, received.length)
        })))

      it.scoped("a second rejection fails with AccessTokenRejected after exactly 2 attempts", () =>
        run(Effect.gen(function*() {
          const { api, client, fake } = yield* setup(acceptOnly(new Set()))
          const error = yield* Effect.flip(client.get(at(api, "/orders/7?customer=secret")))
          assert.strictEqual(error._tag, "AccessTokenRejected")
          if (error._tag !== "AccessTokenRejected") return
          assert.strictEqual(error.status, 401)
          assert.strictEqual(error.method, "GET")
          assert.strictEqual(error.url, at(api, "/orders/7"))
          assert.include(error.reason, "freshly fetched token")
          assert.deepStrictEqual(authorizations(yield* api.requests), [bearer(1), bearer(2)])
          assert.strictEqual((yield* fake.requests).length, 2)
        })))

      it.scoped("a request to another origin carries no token and fetches none", () =>
        run(Effect.gen(function*() {
          const { api, client, fake } = yield* setup(ok)
          const foreign = yield* HttpTestServer.make(ok)
          assert.strictEqual((yield* client.get(at(foreign, "/elsewhere"))).status, 200)
          // The caller's own header is theirs to send.
          yield* client.execute(
            HttpClientRequest.get(at(foreign, "/own")).pipe(HttpClientRequest.setHeader("authorization", "Basic own"))
          )
          assert.deepStrictEqual(authorizations(yield* foreign.requests), [undefined, "Basic own"])
          assert.strictEqual((yield* fake.requests).length, 0)
          yield* client.get(at(api, "/mine"))
          assert.deepStrictEqual(authorizations(yield* api.requests), [bearer(1)])
        })))

      it.scoped("a custom isTokenRejected reads the body; a 401 for another reason reaches the caller readable", () =>
        run(Effect.gen(function*() {
          const { api, client, fake } = yield* setup(
            (request) => (request.headers.authorization === bearer(1)
              ? { status: 401, body: JSON.stringify({ title: "Access token expired" }) }
              : request.url === "/forbidden"
              ? { status: 401, body: JSON.stringify({ title: "Insufficient scope" }) }
              : { status: 200, body: "ok" }),
            { isTokenRejected: dhlExpired }
          )
          const recovered = yield* client.get(at(api, "/shipments"))
          assert.strictEqual(recovered.status, 200)
          assert.strictEqual(yield* recovered.text, "ok")
          assert.strictEqual((yield* fake.requests).length, 2)

          const forbidden = yield* client.get(at(api, "/forbidden"))
          assert.strictEqual(forbidden.status, 401)
          // The predicate read the body; every accessor still works, in any order.
          assert.deepStrictEqual(yield* forbidden.json, { title: "Insufficient scope" })
          assert.strictEqual(
            new TextDecoder().decode(yield* forbidden.arrayBuffer),
            "{\"title\":\"Insufficient scope\"}"
          )
          assert.strictEqual(
            new TextDecoder().decode(Buffer.concat(Array.from(yield* Stream.runCollect(forbidden.stream)))),
            "{\"title\":\"Insufficient scope\"}"
          )
          assert.strictEqual((yield* fake.requests).length, 2)
          assert.deepStrictEqual(authorizations(yield* api.requests), [bearer(1), bearer(2), bearer(2)])
        })))
    })
  }

  it.scoped("a token revoked while a request is in flight is recovered", () =>
    Effect.gen(function*() {
      const accepted = new Set([bearer(1)])
      let revokeOnArrival = false
      const { api, client, fake } = yield* setup((request) => {
        // The server revokes token-1 between the client picking it and the request arriving.
        if (revokeOnArrival) {
          revokeOnArrival = false
          accepted.clear()
          accepted.add(bearer(2))
        }
        return acceptOnly(accepted)(request)
      })
      assert.strictEqual((yield* client.get(at(api, "/warm"))).status, 200)
      revokeOnArrival = true
      assert.strictEqual(
        yield* Effect.flatMap(client.get(at(api, "/orders")), (response) => response.text),
        "ok /orders"
      )
      assert.deepStrictEqual(authorizations(yield* api.requests), [bearer(1), bearer(1), bearer(2)])
      assert.strictEqual((yield* fake.requests).length, 2)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("with the default predicate any 401 triggers the refetch, whatever its body says", () =>
    Effect.gen(function*() {
      const { api, client, fake } = yield* setup(
        acceptOnly(new Set([bearer(2)]), JSON.stringify({ title: "Something else entirely" }))
      )
      assert.strictEqual(yield* Effect.flatMap(client.get(at(api, "/x")), (response) => response.text), "ok /x")
      assert.strictEqual((yield* fake.requests).length, 2)
      assert.deepStrictEqual(authorizations(yield* api.requests), [bearer(1), bearer(2)])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  describe("redirects", () => {
    const redirecting = (target: string): HttpTestServer.Handler => (request) => (request.url === "/away"
      ? { status: 302, headers: { location: target }, body: "" }
      : request.url === "/hop"
      ? { status: 302, headers: { location: "/landed" }, body: "" }
      : { status: 200, body: `ok ${request.url}` })

    it.scoped("with the caller's followRedirects, each hop is checked: the foreign hop gets no token", () =>
      Effect.gen(function*() {
        const foreign = yield* HttpTestServer.make(ok)
        const { api, client } = yield* setup(redirecting(at(foreign, "/landing")))
        const following = HttpClient.followRedirects(client)
        const away = yield* following.get(at(api, "/away"))
        assert.strictEqual(yield* away.text, "ok")
        assert.deepStrictEqual(authorizations(yield* foreign.requests), [undefined])
        // A same-origin hop still carries it.
        assert.strictEqual(yield* Effect.flatMap(following.get(at(api, "/hop")), (r) => r.text), "ok /landed")
        assert.deepStrictEqual(authorizations(yield* api.requests), [bearer(1), bearer(1), bearer(1)])
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

    it.scoped("undici does not follow on its own: the caller sees the 302", () =>
      Effect.gen(function*() {
        const foreign = yield* HttpTestServer.make(ok)
        const { api, client } = yield* setup(redirecting(at(foreign, "/landing")))
        assert.strictEqual((yield* client.get(at(api, "/away"))).status, 302)
        assert.strictEqual((yield* foreign.requests).length, 0)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

    it.scoped("fetch follows on its own and drops Authorization on the cross-origin hop (Fetch spec)", () =>
      Effect.gen(function*() {
        const foreign = yield* HttpTestServer.make(ok)
        const { api, client } = yield* setup(redirecting(at(foreign, "/landing")))
        assert.strictEqual(yield* Effect.flatMap(client.get(at(api, "/away")), (r) => r.text), "ok")
        assert.deepStrictEqual(authorizations(yield* api.requests), [bearer(1)])
        assert.deepStrictEqual(authorizations(yield* foreign.requests), [undefined])
        // Same origin: fetch keeps it.
        assert.strictEqual(yield* Effect.flatMap(client.get(at(api, "/hop")), (r) => r.text), "ok /landed")
        assert.deepStrictEqual(authorizations(yield* api.requests), [bearer(1), bearer(1), bearer(1)])
      }).pipe(Effect.provide(FetchHttpClient.layer)))
  })

  describe("requests that are not replayed", () => {
    it.scoped("a POST inside withoutReplay is sent once, fails AccessTokenRejected and still invalidates", () =>
      Effect.gen(function*() {
        const { api, client, fake, manager } = yield* setup(acceptOnly(new Set()))
        const error = yield* Effect.flip(
          AuthorizedClient.withoutReplay(client.post(at(api, "/orders"), { body: HttpBody.text("{\"n\":1}") }))
        )
        assert.strictEqual(error._tag, "AccessTokenRejected")
        if (error._tag !== "AccessTokenRejected") return
        assert.strictEqual(error.method, "POST")
        assert.include(error.reason, "replay is disabled")
        const received = yield* api.requests
        assert.strictEqual(received.length, 1)
        assert.strictEqual(received[0]!.body, "{\"n\":1}")
        // Invalidated: the next caller gets a new token.
        assert.strictEqual((yield* fake.requests).length, 1)
        yield* manager.get
        assert.strictEqual((yield* fake.requests).length, 2)
        // Outside withoutReplay the same client replays (past the manager's floor between two invalidated fetches).
        yield* TestClock.adjust("5 seconds")
        yield* Effect.flip(client.post(at(api, "/orders"), { body: HttpBody.text("{\"n\":2}") }))
        assert.strictEqual((yield* api.requests).length, 3)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

    it.scoped("retryOnRejection: false sends every request once", () =>
      Effect.gen(function*() {
        const { api, client } = yield* setup(acceptOnly(new Set()), { retryOnRejection: false })
        const error = yield* Effect.flip(client.get(at(api, "/orders")))
        assert.strictEqual(error._tag, "AccessTokenRejected")
        assert.strictEqual((yield* api.requests).length, 1)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

    it.scoped("a request with a streaming body is not replayed and says why", () =>
      Effect.gen(function*() {
        const { api, client, fake, manager } = yield* setup(acceptOnly(new Set()))
        const request = HttpClientRequest.post(at(api, "/upload")).pipe(
          HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("chunk-1"), new TextEncoder().encode("-2")))
        )
        const error = yield* Effect.flip(client.execute(request))
        assert.strictEqual(error._tag, "AccessTokenRejected")
        if (error._tag !== "AccessTokenRejected") return
        assert.include(error.reason, "stream")
        const received = yield* api.requests
        assert.strictEqual(received.length, 1)
        assert.strictEqual(received[0]!.body, "chunk-1-2")
        yield* manager.get
        assert.strictEqual((yield* fake.requests).length, 2)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
  })

  describe("token errors", () => {
    it.scoped("InvalidCredentials from the manager reaches the caller under its tag; nothing is sent", () =>
      Effect.gen(function*() {
        const { api, client, fake } = yield* setup(ok)
        yield* fake.script(new OAuthError.InvalidCredentials({ status: 401, error: "invalid_client" }))
        const outcome = yield* client.get(at(api, "/orders")).pipe(
          Effect.as("sent"),
          Effect.catchTag("InvalidCredentials", (error) => Effect.succeed(`caught ${error.error}`))
        )
        assert.strictEqual(outcome, "caught invalid_client")
        assert.strictEqual((yield* api.requests).length, 0)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

    it.scoped("Effect.retry({ while: OAuthError.isTransient }) retries an outage and not bad credentials", () =>
      Effect.gen(function*() {
        const { api, client, fake } = yield* setup(ok)
        const outage = new OAuthError.TokenEndpointUnavailable({ reason: "ServerError", status: 503 })
        yield* fake.script(outage, outage)
        const response = yield* client.get(at(api, "/orders")).pipe(
          // Time passes between attempts, as with any retry schedule: past the manager's short failure memory.
          Effect.tapError(() => TestClock.adjust("10 seconds")),
          Effect.retry({ while: OAuthError.isTransient, times: 5 })
        )
        assert.strictEqual(response.status, 200)
        assert.strictEqual((yield* fake.requests).length, 3)
        assert.strictEqual((yield* api.requests).length, 1)

        const other = yield* setup(ok)
        yield* other.fake.script(new OAuthError.InvalidCredentials({ status: 401 }))
        const error = yield* Effect.flip(
          other.client.get(at(other.api, "/orders")).pipe(Effect.retry({ while: OAuthError.isTransient, times: 5 }))
        )
        assert.strictEqual(error._tag, "InvalidCredentials")
        assert.strictEqual((yield* other.fake.requests).length, 1)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
  })

  it.scoped("composes with mapRequest, filterStatusOk and retryTransient", () =>
    Effect.gen(function*() {
      let flaky = 0
      const { api, client } = yield* setup((request) => (request.url === "/missing"
        ? { status: 404, body: "" }
        : request.url === "/flaky" && flaky++ === 0
        ? { status: 503, body: "" }
        : { status: 200, body: `ok ${request.url}` })
      )
      const composed = client.pipe(
        HttpClient.mapRequest(HttpClientRequest.prependUrl(api.origin)),
        HttpClient.filterStatusOk,
        HttpClient.retryTransient({ times: 2 })
      )
      assert.strictEqual(yield* Effect.flatMap(composed.get("/orders"), (r) => r.text), "ok /orders")
      assert.strictEqual(yield* Effect.flatMap(composed.get("/flaky"), (r) => r.text), "ok /flaky")
      const error = yield* Effect.flip(composed.get("/missing"))
      assert.strictEqual(error._tag, "ResponseError")
      if (error._tag === "ResponseError") assert.strictEqual(error.response.status, 404)
      const received = yield* api.requests
      assert.deepStrictEqual(received.map((request) => request.url), ["/orders", "/flaky", "/flaky", "/missing"])
      assert.isTrue(received.every((request) => request.headers.authorization === bearer(1)))
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("no span attribute and no inspected request shows the token", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const { api, client } = yield* setup(acceptOnly(new Set([bearer(2)])))
      const response: HttpClientResponse.HttpClientResponse = yield* recorder.record(client.get(at(api, "/orders")))
      assert.strictEqual(response.status, 200)
      const attributes = recorder.spans.flatMap((span) =>
        Array.from(span.attributes, ([key, value]) => [key, String(value)] as const)
      )
      assert.isTrue(attributes.some(([key]) => key === "http.request.header.authorization"))
      assert.isFalse(attributes.some(([, value]) => value.includes("token-")), "a span attribute shows a token")
      const rejected = recorder.spans.find((span) => span.name === "AuthorizedClient.tokenRejected")
      assert.strictEqual(rejected?.attributes.get("oauth.replayed"), true)
      // The response carries the caller's request: the Authorization header the client added is not on it.
      assert.isUndefined(response.request.headers.authorization)
      const logged: Array<string> = []
      yield* Effect.logInfo(response.request).pipe(
        Effect.provide(
          Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logged.push(Inspectable.format(message))))
        )
      )
      assert.include(logged.join(), "/orders")
      assert.notInclude(logged.join(), "token-")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("make fails with a ConfigError naming the field for an empty, insecure or odd origin list", () =>
    Effect.gen(function*() {
      const client = HttpClient.make(() => Effect.die("unused"))
      const manager = {} as TokenManager.Service
      const failure = (options: unknown) =>
        Effect.flip(AuthorizedClient.make(client, manager, options as AuthorizedClient.Options))
      const cases: ReadonlyArray<readonly [unknown, ReadonlyArray<string>, RegExp]> = [
        [{ origins: [] }, ["origins"], /at least one origin/],
        [{ origins: ["http://api.example.com"] }, ["origins", "0"], /https/],
        [{ origins: ["https://ok.example.com", "not a url"] }, ["origins", "1"], /absolute URL/],
        [{ origins: "https://api.example.com" }, ["origins"], /list of URLs/],
        [{ origins: [42] }, ["origins", "0"], /must be a URL/],
        [{}, ["origins"], /list of URLs/],
        [undefined, [], /must be an object/],
        [{ origins: ["https://api.example.com"], isTokenRejected: 401 }, ["isTokenRejected"], /function/],
        [{ origins: ["https://api.example.com"], retryOnRejection: "no" }, ["retryOnRejection"], /true or false/]
      ]
      for (const [options, path, message] of cases) {
        const error = yield* failure(options)
        assert.strictEqual(error._op, "InvalidData", JSON.stringify(options))
        if (error._op !== "InvalidData") return
        assert.deepStrictEqual(error.path, path)
        assert.match(error.message, message)
      }
      const built = yield* AuthorizedClient.make(client, manager, { origins: [new URL("https://api.example.com/x")] })
      assert.isFunction(built.execute)
    }))
})

import { Recorder } from "@effect-oauth/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Util from "node:util"
import * as AuthorizedClient from "../src/AuthorizedClient.js"
import * as TokenManager from "../src/TokenManager.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["undici", NodeHttpClient.layerUndici],
  ["fetch", FetchHttpClient.layer]
]

// An authorized client over the HttpClient in context, for `origins`, with tokens `token-<n>` from a fake endpoint.
const authorized = (origins: ReadonlyArray<string>, isTokenRejected?: AuthorizedClient.IsTokenRejected) =>
  Effect.gen(function*() {
    const fake = yield* makeFakeEndpoint(3600)
    const manager = yield* TokenManager.make(fake.endpoint)
    const client = yield* AuthorizedClient.make(yield* HttpClient.HttpClient, manager, { origins, isTokenRejected })
    return { client, fake }
  })

// As DHL's: a 400 is a rejection when its body says so; a body that cannot be read is no rejection.
const readsBody: AuthorizedClient.IsTokenRejected = (response) =>
  response.status === 401 ||
  (response.status === 400 &&
    Effect.orElseSucceed(Effect.map(response.text, (text) => text.includes("Access token expired")), () => false))

// Token 1 is refused with a 401 whose body `write` sends; any later token is accepted.
const rejectFirst = (write: HttpTestServer.Reply & { readonly status: 401 }): HttpTestServer.Handler => (request) =>
  request.headers.authorization === "Bearer token-1" ? write : { status: 200, body: `ok ${request.url}` }

// Every way an error or a value can be printed: none may show the token.
const renderings = (value: unknown): ReadonlyArray<string> => [
  String(value),
  JSON.stringify(value) ?? "",
  Util.inspect(value, { depth: Infinity }),
  Cause.pretty(Cause.fail(value)),
  Util.format("%o", value)
]

const assertNoToken = (value: unknown, recorder?: Recorder.Recorder) => {
  for (const rendering of renderings(value)) assert.notInclude(rendering, "token-1", rendering)
  if (recorder !== undefined) {
    for (const rendering of Recorder.renderings(recorder)) assert.notInclude(rendering, "token-1", rendering)
  }
}

describe("AuthorizedClient, hostile resource servers", () => {
  for (const [name, layer] of clients) {
    const run = <A, E>(self: Effect.Effect<A, E, HttpClient.HttpClient | Scope.Scope>) => Effect.provide(self, layer)

    it.scoped(`${name}: a 401 with an endless body is drained up to 64 KiB, abandoned and the request replayed`, () =>
      run(Effect.gen(function*() {
        const sent = { bytes: 0 }
        const chunk = Buffer.alloc(16 * 1024, "x")
        const api = yield* HttpTestServer.make(
          rejectFirst({ status: 401, write: HttpTestServer.pump(() => chunk, sent) })
        )
        const { client, fake } = yield* authorized([api.origin])
        const response = yield* client.get(`${api.origin}/orders`)
        assert.strictEqual(yield* response.text, "ok /orders")
        assert.strictEqual((yield* fake.requests).length, 2)
        // The client stopped reading: the server could not push much more than the cap (plus socket buffers).
        assert.isBelow(sent.bytes, 64 * 1024 * 1024)
      })))

    it.scoped(`${name}: a 401 whose body drips forever is abandoned after the drain timeout`, () =>
      run(Effect.gen(function*() {
        const started = yield* Deferred.make<void>()
        const api = yield* HttpTestServer.make(rejectFirst({
          status: 401,
          write: HttpTestServer.drip(" ", 5, () => Deferred.unsafeDone(started, Exit.void))
        }))
        const { client, fake } = yield* authorized([api.origin])
        const fiber = yield* Effect.fork(Effect.flatMap(client.get(`${api.origin}/orders`), (r) => r.text))
        yield* Deferred.await(started)
        // The drain starts its timer once the 401's headers arrive: move the clock until the request completes.
        while (Option.isNone(yield* Fiber.poll(fiber))) {
          yield* TestClock.adjust("1 second")
          yield* Effect.yieldNow()
        }
        assert.strictEqual(yield* Fiber.join(fiber), "ok /orders")
        assert.strictEqual((yield* fake.requests).length, 2)
      })))

    it.scoped(`${name}: a predicate reading an endless 400 body stops at 1 MiB; the caller gets a typed read error`, () =>
      run(Effect.gen(function*() {
        const chunk = Buffer.alloc(16 * 1024, "x")
        const api = yield* HttpTestServer.make(() => ({ status: 400, write: HttpTestServer.pump(() => chunk) }))
        const { client, fake } = yield* authorized([api.origin], readsBody)
        const response = yield* client.get(`${api.origin}/orders`)
        assert.strictEqual(response.status, 400)
        const error = yield* Effect.flip(response.text)
        assert.strictEqual(error.reason, "Decode")
        assert.include(error.message, "exceeds 1048576 bytes")
        assert.strictEqual((yield* fake.requests).length, 1)
      })))

    it.scoped(`${name}: a predicate reading a 400 body that drips forever gives up after 10 seconds`, () =>
      run(Effect.gen(function*() {
        const started = yield* Deferred.make<void>()
        const api = yield* HttpTestServer.make(() => ({
          status: 400,
          write: HttpTestServer.drip(" ", 5, () => Deferred.unsafeDone(started, Exit.void))
        }))
        const { client } = yield* authorized([api.origin], readsBody)
        const fiber = yield* Effect.fork(Effect.flatMap(client.get(`${api.origin}/orders`), (r) => Effect.flip(r.text)))
        yield* Deferred.await(started)
        while (Option.isNone(yield* Fiber.poll(fiber))) {
          yield* TestClock.adjust("1 second")
          yield* Effect.yieldNow()
        }
        const error = yield* Fiber.join(fiber)
        assert.include(error.message, "not read within 10 seconds")
      })))

    it.scoped(`${name}: a refused connection fails with a RequestError that shows no token anywhere`, () =>
      run(Effect.gen(function*() {
        const recorder = yield* Recorder.make
        const port = yield* HttpTestServer.closedPort
        const origin = `http://127.0.0.1:${port}`
        const { client } = yield* authorized([origin])
        const error = yield* recorder.record(
          Effect.flip(client.get(`${origin}/orders`)).pipe(Effect.tap((error) => Effect.logError(error)))
        )
        assert.strictEqual(error._tag, "RequestError")
        if (error._tag !== "RequestError") return
        assert.strictEqual(error.reason, "Transport")
        assert.isUndefined(error.request.headers.authorization)
        assert.strictEqual(error.request.url, `${origin}/orders`)
        assertNoToken(error)
        assertNoToken(Exit.fail(error), recorder)
      })))

    it.scoped(`${name}: filterStatusOk on a 500 fails with a ResponseError that shows no token anywhere`, () =>
      run(Effect.gen(function*() {
        const recorder = yield* Recorder.make
        const api = yield* HttpTestServer.make(() => ({ status: 500, body: "{\"broken\":true}" }))
        const { client } = yield* authorized([api.origin])
        const checked = HttpClient.filterStatusOk(client)
        const error = yield* recorder.record(
          Effect.flip(checked.get(`${api.origin}/orders`)).pipe(Effect.tap((error) => Effect.logError(error)))
        )
        assert.strictEqual(error._tag, "ResponseError")
        if (error._tag !== "ResponseError") return
        assert.strictEqual(error.response.status, 500)
        assert.isUndefined(error.request.headers.authorization)
        assert.isUndefined(error.response.request.headers.authorization)
        // The body stays readable through the error's response.
        assert.strictEqual(yield* error.response.text, "{\"broken\":true}")
        assert.strictEqual((yield* api.requests)[0]!.headers.authorization, "Bearer token-1")
        assertNoToken(error)
        assertNoToken(error.response)
        assertNoToken(Exit.fail(error), recorder)
      })))

    it.scoped(`${name}: a body that cannot be decoded fails with a ResponseError that shows no token`, () =>
      run(Effect.gen(function*() {
        const api = yield* HttpTestServer.make(() => ({ status: 200, body: "not json" }))
        const { client } = yield* authorized([api.origin])
        const response = yield* client.get(`${api.origin}/orders`)
        assert.isUndefined(response.request.headers.authorization)
        assertNoToken(response)
        const error = yield* Effect.flip(response.json)
        assert.strictEqual(error.reason, "Decode")
        assert.isUndefined(error.request.headers.authorization)
        assertNoToken(error)
      })))
  }
})

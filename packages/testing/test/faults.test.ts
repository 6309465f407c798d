import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Emulator from "../src/Emulator.js"
import * as Fault from "../src/Fault.js"
import { bearer, forkUntilSleeping, form, multipart, postWith } from "./utils.js"

const client = { id: "oms-app", secret: "s3cr3t-value" }
const credentials = { grant_type: "client_credentials", client_id: client.id, client_secret: client.secret }
const bringg = Emulator.make({ provider: "bringg", clients: [client] })

layer(FetchHttpClient.layer)("token endpoint faults", (it) => {
  it.scoped("latency holds the answer until the emulator's Clock passes it", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.latency("10 seconds"))
      const request = yield* forkUntilSleeping(multipart(emulator.tokenUrl, credentials))
      yield* TestClock.adjust("9 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(request)))
      yield* TestClock.adjust("1 second")
      const reply = yield* Fiber.join(request)
      assert.strictEqual(reply.status, 200)
      assert.isString(reply.body.access_token)
      assert.strictEqual((yield* emulator.requests)[0]?.fault, "Latency")
    }))

  it.scoped("fails with a given status N times, then recovers", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.status(500), { times: 2 })
      const first = yield* multipart(emulator.tokenUrl, credentials)
      const second = yield* multipart(emulator.tokenUrl, credentials)
      const third = yield* multipart(emulator.tokenUrl, credentials)
      assert.deepStrictEqual([first.status, second.status, third.status], [500, 500, 200])
      assert.strictEqual(first.body.error, "server_error")
      const stats = yield* emulator.stats
      assert.strictEqual(stats.tokenRequests, 3)
      assert.strictEqual(stats.tokensIssued, 1)
      const log = yield* emulator.requests
      assert.deepStrictEqual(log.map((r) => [r.fault, r.status]), [["Status", 500], ["Status", 500], [undefined, 200]])
    }))

  it.scoped("429 and 503 carry Retry-After in whole seconds; faults apply in the order queued", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.rateLimited("2 seconds"))
      yield* emulator.injectFault(Fault.unavailable("1500 millis"))
      const limited = yield* multipart(emulator.tokenUrl, credentials)
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers["retry-after"], "2")
      assert.strictEqual(limited.body.error, "temporarily_unavailable")
      const unavailable = yield* multipart(emulator.tokenUrl, credentials)
      assert.strictEqual(unavailable.status, 503)
      assert.strictEqual(unavailable.headers["retry-after"], "2")
      assert.strictEqual((yield* multipart(emulator.tokenUrl, credentials)).status, 200)
    }))

  it.scoped("DHL answers injected statuses with its problem format", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "dhl", clients: [client] })
      yield* emulator.injectFault(Fault.unavailable("30 seconds"))
      const reply = yield* form(emulator.tokenUrl, credentials)
      assert.strictEqual(reply.status, 503)
      assert.strictEqual(reply.headers["retry-after"], "30")
      assert.match(reply.headers["content-type"] ?? "", /^application\/problem\+json/)
      assert.deepStrictEqual(reply.body, {
        type: `${emulator.baseUrl}/docs/errors/503.0000099`,
        title: "Service Unavailable"
      })
    }))

  it.scoped("connection reset destroys the socket; the next request is answered", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.connectionReset)
      const reset = yield* Effect.exit(multipart(emulator.tokenUrl, credentials))
      assert.isTrue(Exit.isFailure(reset))
      if (Exit.isFailure(reset)) {
        const error = reset.cause._tag === "Fail" ? reset.cause.error : undefined
        assert.strictEqual(error?._tag, "RequestError")
        assert.strictEqual(error?._tag === "RequestError" ? error.reason : undefined, "Transport")
      }
      assert.strictEqual((yield* multipart(emulator.tokenUrl, credentials)).status, 200)
      const log = yield* emulator.requests
      assert.strictEqual(log[0]?.fault, "ConnectionReset")
      assert.isUndefined(log[0]?.status)
      assert.strictEqual((yield* emulator.stats).tokenRequests, 2)
    }))

  it.scoped("malformed JSON: 200, application/json, a body no parser accepts", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.malformedJson)
      const reply = yield* multipart(emulator.tokenUrl, credentials)
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"] ?? "", /^application\/json/)
      assert.throws(() => JSON.parse(reply.text))
      assert.strictEqual((yield* emulator.stats).tokensIssued, 0)
    }))

  it.scoped("HTML error page: 502 by default, any status on request", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.htmlError())
      yield* emulator.injectFault(Fault.htmlError(504))
      const badGateway = yield* multipart(emulator.tokenUrl, credentials)
      assert.strictEqual(badGateway.status, 502)
      assert.match(badGateway.headers["content-type"] ?? "", /^text\/html/)
      assert.include(badGateway.text, "<title>502 Bad Gateway</title>")
      assert.strictEqual((yield* multipart(emulator.tokenUrl, credentials)).status, 504)
    }))

  it.scoped("wrong content type: 200 text/plain carrying a real token", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.wrongContentType)
      const reply = yield* multipart(emulator.tokenUrl, credentials)
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"] ?? "", /^text\/plain/)
      const token = JSON.parse(reply.text).access_token
      assert.strictEqual((yield* postWith(`${emulator.baseUrl}/services/x`, bearer(token))).status, 200)
    }))

  it.scoped("missing fields: access_token by default, or the fields named", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.missingFields())
      yield* emulator.injectFault(Fault.missingFields("expires_in", "token_type"))
      const noToken = yield* multipart(emulator.tokenUrl, credentials)
      assert.strictEqual(noToken.status, 200)
      assert.deepStrictEqual(Object.keys(noToken.body).sort(), ["created_at", "expires_in", "token_type"])
      const noExpiry = yield* multipart(emulator.tokenUrl, credentials)
      assert.deepStrictEqual(Object.keys(noExpiry.body).sort(), ["access_token", "created_at"])
    }))

  it.scoped("expires_in 0, negative, huge or a numeric string; the real lifetime stays the configured one", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      const values = [0, -60, 315_360_000, "3600"] as const
      for (const value of values) yield* emulator.injectFault(Fault.expiresIn(value))
      const replies = []
      for (const _ of values) replies.push(yield* multipart(emulator.tokenUrl, credentials))
      assert.deepStrictEqual(replies.map((r) => r.body.expires_in), [0, -60, 315_360_000, "3600"])
      const huge = replies[2]?.body.access_token
      const service = `${emulator.baseUrl}/services/x`
      assert.strictEqual((yield* postWith(service, bearer(huge))).status, 200)
      yield* TestClock.adjust("3600 seconds")
      assert.strictEqual((yield* postWith(service, bearer(huge))).status, 401)
    }))

  it.scoped("clock skew shifts Bringg's created_at ahead or behind the emulator's Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_600_000_000_000)
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.clockSkew("5 minutes"))
      yield* emulator.injectFault(Fault.clockSkew("90 seconds", "behind"))
      const ahead = yield* multipart(emulator.tokenUrl, credentials)
      const behind = yield* multipart(emulator.tokenUrl, credentials)
      const normal = yield* multipart(emulator.tokenUrl, credentials)
      assert.deepStrictEqual(
        [ahead.body.created_at, behind.body.created_at, normal.body.created_at],
        [1_600_000_300, 1_599_999_910, 1_600_000_000]
      )
    }))

  it.scoped("times: Infinity repeats a fault until clearFaults; times < 1 queues nothing", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      yield* emulator.injectFault(Fault.status(418), { times: 0 })
      yield* emulator.injectFault(Fault.status(500), { times: Infinity })
      for (let i = 0; i < 5; i++) assert.strictEqual((yield* multipart(emulator.tokenUrl, credentials)).status, 500)
      yield* emulator.clearFaults
      assert.strictEqual((yield* multipart(emulator.tokenUrl, credentials)).status, 200)
      assert.strictEqual((yield* multipart(emulator.tokenUrl, credentials)).status, 200)
    }))
})

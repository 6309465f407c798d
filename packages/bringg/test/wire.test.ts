/**
 * The token request on the wire and the outcome of each answer, over a real socket against the Bringg emulator.
 */
import { Emulator, Fault, Recorder } from "@effect-oauth/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as BringgClient from "../src/BringgClient.js"
import type * as BringgProvider from "../src/BringgProvider.js"
import { app, callService, describeEvent, eventsOf, OMS } from "./utils.js"

const bringg = (options: Partial<Emulator.Options> = {}) =>
  Emulator.make({ provider: "bringg", clients: [OMS], ...options })

const variants: ReadonlyArray<{
  readonly label: string
  readonly options: BringgProvider.Options
  readonly contentType: RegExp
  readonly encoding: Emulator.Encoding
  readonly authMethod: Emulator.AuthMethod
  readonly fields: Readonly<Record<string, string>>
}> = [
  {
    label: "default: multipart body with the credentials (the curl -F of Bringg's guide)",
    options: {},
    contentType: /^multipart\/form-data; boundary=/,
    encoding: "multipart",
    authMethod: "post",
    fields: { grant_type: "client_credentials", client_id: OMS.id, client_secret: "***", ttl: "1800" }
  },
  {
    label: "json body (the public docs)",
    options: { encoding: "json" },
    contentType: /^application\/json/,
    encoding: "json",
    authMethod: "post",
    fields: { grant_type: "client_credentials", client_id: OMS.id, client_secret: "***", ttl: "1800" }
  },
  {
    label: "urlencoded body",
    options: { encoding: "form" },
    contentType: /^application\/x-www-form-urlencoded/,
    encoding: "form",
    authMethod: "post",
    fields: { grant_type: "client_credentials", client_id: OMS.id, client_secret: "***", ttl: "1800" }
  },
  {
    label: "credentials in the call header (HTTP Basic), multipart body",
    options: { authMethod: "client_secret_basic" },
    contentType: /^multipart\/form-data; boundary=/,
    encoding: "multipart",
    authMethod: "basic",
    fields: { grant_type: "client_credentials", ttl: "1800" }
  }
]

describe("the token request on the wire", () => {
  for (const variant of variants) {
    it.scoped(variant.label, () =>
      Effect.gen(function*() {
        const emulator = yield* bringg()
        const { client, manager } = yield* app(emulator, OMS, { ...variant.options, ttl: "30 minutes" })
        const reply = yield* callService(client, "create_task")
        assert.deepStrictEqual(reply, {
          status: 200,
          body: { success: true, service: "create_task", method: "POST", client_id: OMS.id }
        })
        const [request, ...others] = yield* emulator.requests
        assert.strictEqual(others.length, 0)
        assert.strictEqual(request?.method, "POST")
        assert.strictEqual(request?.path, "/oauth/token")
        assert.match(request?.contentType ?? "", variant.contentType)
        assert.strictEqual(request?.encoding, variant.encoding)
        assert.strictEqual(request?.authMethod, variant.authMethod)
        assert.strictEqual(request?.clientId, OMS.id)
        assert.deepStrictEqual(request?.fields, variant.fields)
        assert.strictEqual(request?.status, 200)
        // The server honoured the ttl; the client trusts the answer's expires_in.
        assert.strictEqual((yield* manager.get).lifetimeMillis, 30 * 60 * 1000)
      }).pipe(Effect.provide(FetchHttpClient.layer)))
  }

  it.scoped("without ttl no ttl field is sent and the server's lifetime applies", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg({ tokenLifetime: "4 hours" })
      const { manager } = yield* app(emulator, OMS)
      assert.strictEqual((yield* manager.get).lifetimeMillis, 4 * 60 * 60 * 1000)
      const [request] = yield* emulator.requests
      assert.deepStrictEqual(request?.fields, {
        grant_type: "client_credentials",
        client_id: OMS.id,
        client_secret: "***"
      })
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("answers of the token endpoint", () => {
  it.scoped("success: the BringgClient layer calls POST /services/<name> with the token", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg()
      const reply = yield* Effect.gen(function*() {
        const client = yield* BringgClient.BringgClient
        const first = yield* callService(client, "get_task")
        const second = yield* callService(client, "update_task")
        return [first, second]
      }).pipe(
        Effect.provide(
          BringgClient.layer({ baseUrl: emulator.baseUrl, clientId: OMS.id, clientSecret: Redacted.make(OMS.secret) })
        )
      )
      assert.deepStrictEqual(reply.map(({ body }) => body.service), ["get_task", "update_task"])
      const stats = yield* emulator.stats
      assert.strictEqual(stats.tokenRequests, 1)
      assert.strictEqual(stats.resourceRequests, 2)
      assert.strictEqual(stats.resourceRejections, 0)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  const failures: ReadonlyArray<{
    readonly label: string
    readonly secret?: string
    readonly fault?: Fault.Fault
    readonly check: (error: { readonly _tag: string } & Record<string, unknown>) => void
  }> = [
    {
      label: "a wrong secret → InvalidCredentials",
      secret: "not-the-secret",
      check: (error) => {
        assert.strictEqual(error._tag, "InvalidCredentials")
        assert.strictEqual(error.status, 401)
        assert.strictEqual(error.error, "invalid_client")
      }
    },
    {
      label: "503 with Retry-After → TokenEndpointUnavailable with retryAfter",
      fault: Fault.unavailable("5 seconds"),
      check: (error) => {
        assert.strictEqual(error._tag, "TokenEndpointUnavailable")
        assert.strictEqual(error.reason, "ServerError")
        assert.strictEqual(error.status, 503)
        assert.isTrue(Duration.equals(error.retryAfter as Duration.Duration, Duration.seconds(5)))
      }
    },
    {
      label: "429 with Retry-After → TokenEndpointUnavailable RateLimited",
      fault: Fault.rateLimited("30 seconds"),
      check: (error) => {
        assert.strictEqual(error._tag, "TokenEndpointUnavailable")
        assert.strictEqual(error.reason, "RateLimited")
        assert.isTrue(Duration.equals(error.retryAfter as Duration.Duration, Duration.seconds(30)))
      }
    },
    {
      label: "malformed JSON → TokenResponseInvalid",
      fault: Fault.malformedJson,
      check: (error) => {
        assert.strictEqual(error._tag, "TokenResponseInvalid")
        assert.strictEqual(error.status, 200)
      }
    },
    {
      label: "no access_token → TokenResponseInvalid",
      fault: Fault.missingFields("access_token"),
      check: (error) => {
        assert.strictEqual(error._tag, "TokenResponseInvalid")
        assert.include(error.issue as string, "access_token")
      }
    }
  ]

  for (const failure of failures) {
    it.scoped(`${failure.label}; the API is not called and the next call fetches again`, () =>
      Effect.gen(function*() {
        const emulator = yield* bringg()
        if (failure.fault !== undefined) yield* emulator.injectFault(failure.fault)
        const { client } = yield* app(emulator, { id: OMS.id, secret: failure.secret ?? OMS.secret })
        const error = yield* Effect.flip(callService(client, "create_task"))
        failure.check(error as unknown as { readonly _tag: string } & Record<string, unknown>)
        assert.notInclude(JSON.stringify(error), OMS.secret)
        assert.strictEqual((yield* emulator.stats).resourceRequests, 0)
        if (failure.secret === undefined) {
          // A failed fetch is not cached: once its short memory (cooldown, Retry-After) has passed, the next call
          // gets a token.
          yield* TestClock.adjust("10 minutes")
          assert.strictEqual((yield* callService(client, "create_task")).status, 200)
          assert.strictEqual((yield* emulator.stats).tokenRequests, 2)
        }
      }).pipe(Effect.provide(FetchHttpClient.layer)))
  }

  it.scoped("a created_at 5 minutes behind shows in the event, the fetch span and a warning log", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const emulator = yield* bringg()
      const { client, manager } = yield* app(emulator, OMS)
      const events = yield* eventsOf(manager)
      yield* TestClock.adjust("1 hour")
      yield* emulator.injectFault(Fault.clockSkew("5 minutes", "behind"))
      yield* recorder.record(callService(client, "create_task"))
      const event = yield* Queue.take(events)
      assert.strictEqual(describeEvent(event), "Fetched")
      assert.deepStrictEqual(event._tag === "Fetched" ? event.serverClockSkew : null, Option.some(300_000))
      const warnings = recorder.logs.filter((line) => line.includes("clock differs"))
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0], "level=WARN")
      assert.include(warnings[0], "skewSeconds=300")
      // The fetch span carries it too.
      const fetches = recorder.spans.filter((span) => span.name === "TokenManager.fetch")
      assert.deepStrictEqual(fetches.map((span) => span.attributes.get("oauth.server_clock_skew_ms")), [300_000])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("a created_at in step with the local clock is reported as no skew and logs no warning", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const emulator = yield* bringg()
      const { manager } = yield* app(emulator, OMS)
      const events = yield* eventsOf(manager)
      yield* TestClock.adjust("1 hour")
      yield* recorder.record(manager.get)
      const event = yield* Queue.take(events)
      assert.deepStrictEqual(event._tag === "Fetched" ? event.serverClockSkew : null, Option.some(0))
      assert.isFalse(recorder.logs.some((line) => line.includes("clock differs")))
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("clockSkewWarning", () => {
  it.scoped("raises the threshold of the warning: a 5-minute skew under a 10-minute threshold is reported, not logged", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const emulator = yield* bringg()
      const { manager } = yield* app(emulator, OMS, { clockSkewWarning: "10 minutes" })
      const events = yield* eventsOf(manager)
      yield* TestClock.adjust("1 hour")
      yield* emulator.injectFault(Fault.clockSkew("5 minutes", "behind"))
      yield* recorder.record(manager.get)
      const event = yield* Queue.take(events)
      assert.deepStrictEqual(event._tag === "Fetched" ? event.serverClockSkew : null, Option.some(300_000))
      assert.isFalse(recorder.logs.some((line) => line.includes("clock differs")))
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

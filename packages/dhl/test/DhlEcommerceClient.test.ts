/**
 * The DHL eCommerce client over real sockets against the emulator's `dhl` flavor.
 */
import { Emulator, Fault } from "@effect-oauth/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import * as Util from "node:util"
import * as DhlEcommerceClient from "../src/DhlEcommerceClient.js"
import { SECRET, setup } from "./utils/setup.js"

// What the emulator's DHL APIs answer to a valid token.
interface Echo {
  readonly success: boolean
  readonly path: string
  readonly method: string
  readonly client_id: string
}

const track = <E>(client: HttpClient.HttpClient.With<E>) =>
  Effect.flatMap(
    client.get("/tracking/v4/package", { urlParams: { trackingId: "GM2951173225174494" } }),
    (response) => Effect.map(response.json, (body) => body as Echo)
  )

const renderings = (error: unknown): ReadonlyArray<string> => [
  String(error),
  JSON.stringify(error),
  Util.inspect(error, { depth: Infinity }),
  Cause.pretty(Cause.fail(error))
]

describe("DhlEcommerceClient against the emulator", () => {
  it.scoped("sends DHL's token request: a urlencoded POST with grant_type, client_id and client_secret", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* setup()
      const app = yield* DhlEcommerceClient.make(options)
      yield* app.manager.get
      const requests = yield* emulator.requests
      assert.strictEqual(requests.length, 1)
      const [request] = requests
      assert.deepStrictEqual(
        {
          method: request!.method,
          path: request!.path,
          contentType: request!.contentType,
          authMethod: request!.authMethod,
          fields: request!.fields,
          status: request!.status
        },
        {
          method: "POST",
          path: "/auth/v4/accesstoken",
          contentType: "application/x-www-form-urlencoded",
          // "post" only: the credentials are in the body and no Basic header was sent.
          authMethod: "post",
          // The emulator masks the secret; the body held exactly these three fields.
          fields: { grant_type: "client_credentials", client_id: "oms", client_secret: "***" },
          status: 200
        }
      )
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("the layer gets a token and calls the tracking and label APIs with it", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* setup()
      const [tracking, label] = yield* Effect.gen(function*() {
        const dhl = yield* DhlEcommerceClient.DhlEcommerceClient
        const tracking = yield* track(dhl)
        const label = yield* HttpClientRequest.post("/shipping/v4/label").pipe(
          HttpClientRequest.bodyUnsafeJson({ pickup: "5351234", orderedProductId: "GND" }),
          dhl.execute,
          Effect.flatMap((response) => response.json)
        )
        return [tracking, label]
      }).pipe(Effect.provide(DhlEcommerceClient.layer(options)))
      assert.deepStrictEqual(tracking, { success: true, path: "/tracking/v4/package", method: "GET", client_id: "oms" })
      assert.deepStrictEqual(label, { success: true, path: "/shipping/v4/label", method: "POST", client_id: "oms" })
      const stats = yield* emulator.stats
      assert.deepStrictEqual([stats.tokenRequests, stats.resourceRequests, stats.resourceRejections], [1, 2, 0])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  for (const status of [400, 401] as const) {
    it.scoped(`bad credentials answered with ${status} are InvalidCredentials`, () =>
      Effect.gen(function*() {
        const { emulator, options } = yield* setup({ dhl: { invalidCredentialsStatus: status } })
        const app = yield* DhlEcommerceClient.make({ ...options, clientSecret: Redacted.make(`${SECRET}-wrong`) })
        const error = yield* Effect.flip(track(app.client))
        assert.strictEqual(error._tag, "InvalidCredentials")
        assert.deepInclude(error, {
          status,
          error: status === 400 ? "400.0000005" : "401.0000007",
          description: "Invalid credentials"
        })
        for (const rendering of renderings(error)) assert.notInclude(rendering, SECRET)
        // The API was never called without a token.
        assert.strictEqual((yield* emulator.stats).resourceRequests, 0)
      }).pipe(Effect.provide(FetchHttpClient.layer)))
  }

  const failures: ReadonlyArray<{
    readonly name: string
    readonly fault: Fault.Fault
    readonly expected: Readonly<Record<string, unknown>>
  }> = [
    {
      name: "503 with Retry-After",
      fault: Fault.unavailable("7 seconds"),
      expected: {
        _tag: "TokenEndpointUnavailable",
        reason: "ServerError",
        status: 503,
        retryAfter: Duration.seconds(7)
      }
    },
    {
      name: "429 with Retry-After",
      fault: Fault.rateLimited("30 seconds"),
      expected: {
        _tag: "TokenEndpointUnavailable",
        reason: "RateLimited",
        status: 429,
        retryAfter: Duration.seconds(30)
      }
    },
    {
      name: "an HTML 502 from a load balancer",
      fault: Fault.htmlError(502),
      expected: { _tag: "TokenEndpointUnavailable", reason: "ServerError", status: 502 }
    },
    {
      name: "malformed JSON",
      fault: Fault.malformedJson,
      expected: { _tag: "TokenResponseInvalid", status: 200 }
    },
    {
      name: "a 400 problem other than invalid credentials",
      fault: Fault.status(400),
      expected: { _tag: "TokenRequestRejected", status: 400, error: "400.0000099", description: "Bad Request" }
    },
    {
      name: "a 403 problem",
      fault: Fault.status(403),
      expected: { _tag: "InvalidCredentials", status: 403, error: "403.0000099", description: "Forbidden" }
    }
  ]
  for (const { expected, fault, name } of failures) {
    it.scoped(`${name} → ${expected._tag}`, () =>
      Effect.gen(function*() {
        const { emulator, options } = yield* setup()
        const app = yield* DhlEcommerceClient.make(options)
        yield* emulator.injectFault(fault)
        const error = yield* Effect.flip(track(app.client))
        assert.deepInclude(error, expected)
        // A failed fetch is not cached: once its short memory (cooldown, Retry-After) has passed, the next call
        // fetches again and succeeds.
        yield* TestClock.adjust("10 minutes")
        assert.isTrue((yield* track(app.client)).success)
        assert.strictEqual((yield* emulator.stats).tokenRequests, 2)
      }).pipe(Effect.provide(FetchHttpClient.layer)))
  }

  it.scoped("a regenerated secret: the API refuses the old token, the refetch with the old secret is InvalidCredentials", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* setup()
      const app = yield* DhlEcommerceClient.make(options)
      yield* track(app.client)
      yield* emulator.regenerateSecret("oms")
      const error = yield* Effect.flip(track(app.client))
      assert.strictEqual(error._tag, "InvalidCredentials")
      const stats = yield* emulator.stats
      assert.deepStrictEqual([stats.tokenRequests, stats.resourceRequests, stats.resourceRejections], [2, 2, 1])
      assert.deepStrictEqual((yield* emulator.requests).map((request) => request.status), [200, 400])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("a token the API says expired is fetched again once and the call succeeds", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* setup()
      // The server says the token lives ten years, so the client does not refresh it before the real 60 minutes end.
      yield* emulator.injectFault(Fault.expiresIn(315_360_000))
      const app = yield* DhlEcommerceClient.make(options)
      yield* track(app.client)
      yield* TestClock.adjust("61 minutes")
      const body = yield* track(app.client)
      assert.deepInclude(body, { success: true })
      const stats = yield* emulator.stats
      assert.deepStrictEqual(
        [stats.tokenRequests, stats.tokensIssued, stats.resourceRequests, stats.resourceRejections],
        [2, 2, 3, 1]
      )
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("an API answering 400 `Access token expired` gets the same recovery; another 400 reaches the caller", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* setup()
      // The emulator answers expiry with 401; this client answers the first label request as an API using 400 would,
      // and every manifest request with a 400 that is not about the token.
      const expiredOnce = yield* Ref.make(true)
      const problem = (title: string) =>
        new Response(JSON.stringify({ type: `${emulator.baseUrl}/docs/errors/400.0000001`, title }), {
          status: 400,
          headers: { "content-type": "application/problem+json" }
        })
      const fake = (request: HttpClientRequest.HttpClientRequest) =>
        request.url.endsWith("/shipping/v4/manifest")
          ? Effect.succeed(problem("Invalid request"))
          : request.url.endsWith("/shipping/v4/label")
          ? Effect.map(Ref.getAndSet(expiredOnce, false), (expired) => expired ? problem("Access token expired") : null)
          : Effect.succeed(null)
      const problem400 = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(
          HttpClient.HttpClient,
          (client) =>
            HttpClient.make((request) =>
              Effect.flatMap(fake(request), (response) =>
                response === null
                  ? client.execute(request)
                  : Effect.succeed(HttpClientResponse.fromWeb(request, response)))
            )
        )
      ).pipe(Layer.provide(FetchHttpClient.layer))
      const [recovered, refused] = yield* Effect.gen(function*() {
        const app = yield* DhlEcommerceClient.make(options)
        const post = (path: string) =>
          app.client.execute(HttpClientRequest.post(path).pipe(HttpClientRequest.bodyUnsafeJson({ id: 1 })))
        const recovered = yield* Effect.flatMap(post("/shipping/v4/label"), (response) => response.json)
        const refused = yield* post("/shipping/v4/manifest")
        return [recovered, { status: refused.status, body: yield* refused.json }]
      }).pipe(Effect.provide(problem400))
      assert.deepInclude(recovered, { success: true, path: "/shipping/v4/label" })
      // Not a token problem: the caller gets the response, body still readable, and no token is fetched for it.
      assert.deepStrictEqual(refused, {
        status: 400,
        body: { type: `${emulator.baseUrl}/docs/errors/400.0000001`, title: "Invalid request" }
      })
      assert.strictEqual((yield* emulator.stats).tokenRequests, 2)
    }))

  it.scoped("three apps in one program: independent tokens, refresh and recovery", () =>
    Effect.gen(function*() {
      const ids = ["oms", "wms", "billing"] as const
      const emulator = yield* Emulator.make({
        provider: "dhl",
        clients: ids.map((id) => ({ id, secret: `${id}-${SECRET}` }))
      })
      const apps = yield* Effect.forEach(ids, (id) =>
        DhlEcommerceClient.make({
          clientId: id,
          clientSecret: Redacted.make(`${id}-${SECRET}`),
          environment: "sandbox",
          baseUrl: emulator.baseUrl,
          name: `dhl-${id}`
        }))
      const bodies = yield* Effect.forEach(apps, (app) => track(app.client))
      assert.deepStrictEqual(bodies.map((body) => body.client_id), [...ids])
      const tokens = yield* Effect.forEach(apps, (app) =>
        Effect.map(app.manager.get, (token) => Redacted.value(token.value)))
      assert.strictEqual(new Set(tokens).size, 3)
      // One app's token revoked: only that app fetches a new one.
      yield* emulator.revokeToken(tokens[0]!)
      yield* Effect.forEach(apps, (app) =>
        track(app.client))
      assert.deepStrictEqual((yield* emulator.stats).tokenRequestsByClient, { oms: 2, wms: 1, billing: 1 })
      const after = yield* Effect.forEach(apps, (app) =>
        Effect.map(app.manager.get, (token) =>
          Redacted.value(token.value)))
      assert.notStrictEqual(after[0], tokens[0])
      assert.deepStrictEqual(after.slice(1), tokens.slice(1))
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("invalid options fail the layer with a ConfigError naming the option", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* setup()
      const failure = (overrides: Partial<DhlEcommerceClient.Options>) =>
        Effect.map(
          Effect.flip(
            Layer.build(DhlEcommerceClient.layer({ ...options, ...overrides } as DhlEcommerceClient.Options))
          ),
          (error) => error._op === "InvalidData" ? { path: error.path, message: error.message } : error._op
        )
      const insecure = yield* failure({ baseUrl: "http://api.example.com" })
      assert.deepStrictEqual(insecure, {
        path: ["baseUrl"],
        message:
          "baseUrl must use https (plain http only on localhost, 127.0.0.0/8 or [::1]), got http://api.example.com"
      })
      assert.deepInclude(yield* failure({ baseUrl: "not a url" }), { path: ["baseUrl"] })
      assert.deepInclude(yield* failure({ environment: "staging" as DhlEcommerceClient.Options["environment"] }), {
        path: ["environment"],
        message: "environment must be one of sandbox, production"
      })
      assert.deepInclude(yield* failure({ clientId: "" }), { path: ["clientId"] })
      assert.deepInclude(yield* failure({ clientSecret: Redacted.make("") }), { path: ["clientSecret"] })
      assert.deepInclude(yield* failure({ policy: { refreshAt: 2 } }), { path: ["policy", "refreshAt"] })
      assert.strictEqual((yield* emulator.stats).tokenRequests, 0)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

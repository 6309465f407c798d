import { Recorder } from "@effect-oauth/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Util from "node:util"
import type { AccessToken } from "../src/AccessToken.js"
import { InvalidCredentials, type TokenError } from "../src/OAuthError.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"
import * as Fixture from "./utils/TokenEndpoint.fixture.js"

const SECRET = "a b+c:d/é"
const CLIENT_ID = "client-1"
const TOKEN = "tok_3f9c2d1e8b7a6f5e4d3c2b1a09"
const NOW = Date.parse("2025-01-15T10:00:00Z")

const ok = (body: Record<string, unknown> = {}) =>
  HttpTestServer.json(200, { access_token: TOKEN, token_type: "Bearer", expires_in: 3600, ...body })

// Every form the secret or the token could take in a rendered value.
const sensitive = [
  SECRET,
  "a+b%2Bc%3Ad%2F%C3%A9",
  encodeURIComponent(SECRET),
  Buffer.from(`${CLIENT_ID}:a+b%2Bc%3Ad%2F%C3%A9`).toString("base64"),
  Buffer.from(`${CLIENT_ID}:${SECRET}`).toString("base64"),
  TOKEN
]

const expectNoSecret = (rendering: string) => {
  for (const value of sensitive) expect(rendering).not.toContain(value)
}

const { failure, setup } = Fixture.make(CLIENT_ID, SECRET)

const fetchClient = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient | Scope.Scope>) =>
  effect.pipe(Effect.provide(FetchHttpClient.layer))

const formOf = (request: HttpTestServer.RecordedRequest) => new URLSearchParams(request.body)

describe("TokenEndpoint", () => {
  describe("client authentication on the wire", () => {
    it.scoped("client_secret_basic form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)", () =>
      fetchClient(Effect.gen(function*() {
        const { endpoint, server } = yield* setup(() => ok(), { clientId: "client id/1" })
        yield* endpoint.request
        const [request] = yield* server.requests
        assert(request !== undefined)
        expect(request.method).toBe("POST")
        expect(request.url).toBe("/oauth/token")
        expect(request.headers.authorization).toBe(
          `Basic ${Buffer.from("client+id%2F1:a+b%2Bc%3Ad%2F%C3%A9").toString("base64")}`
        )
        expect(request.headers.accept).toBe("application/json")
        expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded")
        expect(request.body).toBe("grant_type=client_credentials")
      })))

    it.scoped("client_secret_basic_plain sends base64(id:secret) of the UTF-8 bytes, unencoded", () =>
      fetchClient(Effect.gen(function*() {
        const { endpoint, server } = yield* setup(() => ok(), { authMethod: "client_secret_basic_plain" })
        yield* endpoint.request
        const request = yield* server.takeRequest
        expect(request.headers.authorization).toBe(
          `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`, "utf8").toString("base64")}`
        )
        expect(request.body).toBe("grant_type=client_credentials")
      })))

    it.scoped("client_secret_post puts the credentials in the body and sends no Authorization", () =>
      fetchClient(Effect.gen(function*() {
        const { endpoint, server } = yield* setup(() => ok(), { authMethod: "client_secret_post" })
        yield* endpoint.request
        const request = yield* server.takeRequest
        expect(request.headers.authorization).toBeUndefined()
        const form = formOf(request)
        expect(form.get("grant_type")).toBe("client_credentials")
        expect(form.get("client_id")).toBe(CLIENT_ID)
        expect(form.get("client_secret")).toBe(SECRET)
      })))
  })

  describe("body encodings and parameters", () => {
    const parameters: Partial<TokenEndpoint.Options> = {
      authMethod: "client_secret_post",
      scope: ["orders:read", "orders:write"],
      audience: "https://api.example.com",
      resource: ["https://r1.example.com", "https://r2.example.com"],
      extraParams: { ttl: "600" },
      headers: { "x-request-source": "test" }
    }

    it.scoped("form: urlencoded, lists repeated, scope space-joined", () =>
      fetchClient(Effect.gen(function*() {
        const { endpoint, server } = yield* setup(() => ok(), parameters)
        yield* endpoint.request
        const request = yield* server.takeRequest
        expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded")
        expect(request.headers["x-request-source"]).toBe("test")
        const form = formOf(request)
        expect([...form.keys()].sort()).toEqual(
          ["audience", "client_id", "client_secret", "grant_type", "resource", "resource", "scope", "ttl"]
        )
        expect(form.get("grant_type")).toBe("client_credentials")
        expect(form.get("client_secret")).toBe(SECRET)
        expect(form.get("scope")).toBe("orders:read orders:write")
        expect(form.get("audience")).toBe("https://api.example.com")
        expect(form.getAll("resource")).toEqual(["https://r1.example.com", "https://r2.example.com"])
        expect(form.get("ttl")).toBe("600")
      })))

    it.scoped("multipart: multipart/form-data with the same fields", () =>
      fetchClient(Effect.gen(function*() {
        const { endpoint, server } = yield* setup(() => ok(), { ...parameters, encoding: "multipart" })
        yield* endpoint.request
        const request = yield* server.takeRequest
        const contentType = request.headers["content-type"] ?? ""
        expect(contentType).toMatch(/^multipart\/form-data; boundary=/)
        const form = yield* Effect.promise(() =>
          new Response(request.body, { headers: { "content-type": contentType } }).formData()
        )
        expect(form.get("grant_type")).toBe("client_credentials")
        expect(form.get("client_id")).toBe(CLIENT_ID)
        expect(form.get("client_secret")).toBe(SECRET)
        expect(form.get("scope")).toBe("orders:read orders:write")
        expect(form.get("audience")).toBe("https://api.example.com")
        expect(form.getAll("resource")).toEqual(["https://r1.example.com", "https://r2.example.com"])
        expect(form.get("ttl")).toBe("600")
      })))

    it.scoped("json: an object, resource as an array", () =>
      fetchClient(Effect.gen(function*() {
        const { endpoint, server } = yield* setup(() => ok(), { ...parameters, encoding: "json" })
        yield* endpoint.request
        const request = yield* server.takeRequest
        expect(request.headers["content-type"]).toBe("application/json")
        expect(JSON.parse(request.body)).toEqual({
          grant_type: "client_credentials",
          client_id: CLIENT_ID,
          client_secret: SECRET,
          scope: "orders:read orders:write",
          audience: "https://api.example.com",
          resource: ["https://r1.example.com", "https://r2.example.com"],
          ttl: "600"
        })
      })))
  })

  describe("successful responses", () => {
    it.scoped("expires_in as a number: times from the Clock at receipt, scope and token type kept", () =>
      fetchClient(Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const { endpoint } = yield* setup(() => ok({ token_type: "bearer", scope: "orders:read" }))
        const token = yield* endpoint.request
        expect(Redacted.value(token.value)).toBe(TOKEN)
        expect(token.tokenType).toBe("bearer")
        expect(token.issuedAt).toBe(NOW)
        expect(token.expiresAt).toBe(NOW + 3_600_000)
        expect(token.scope).toEqual(Option.some("orders:read"))
        expect(token.serverCreatedAt).toEqual(Option.none())
      })))

    it.scoped("expires_in as a numeric string", () =>
      fetchClient(Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const { endpoint } = yield* setup(() => ok({ expires_in: "1800" }))
        const token = yield* endpoint.request
        expect(token.expiresAt - token.issuedAt).toBe(1_800_000)
      })))

    it.scoped("missing expires_in: defaultLifetime (1 hour unless configured); missing token_type: Bearer", () =>
      fetchClient(Effect.gen(function*() {
        const reply = HttpTestServer.json(200, { access_token: TOKEN })
        const { endpoint } = yield* setup(() => reply)
        const token = yield* endpoint.request
        expect(token.lifetimeMillis).toBe(3_600_000)
        expect(token.tokenType).toBe("Bearer")
        const configured = yield* setup(() => reply, { defaultLifetime: "5 minutes" })
        expect((yield* configured.endpoint.request).lifetimeMillis).toBe(300_000)
      })))

    it.scoped("created_at becomes serverCreatedAt in milliseconds; a non-number created_at is ignored", () =>
      fetchClient(Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const createdAt = NOW / 1000 - 2
        const { endpoint, server } = yield* setup(() => ok({ created_at: createdAt }))
        const token = yield* endpoint.request
        expect(token.serverCreatedAt).toEqual(Option.some(createdAt * 1000))
        expect(token.serverClockSkewMillis).toEqual(Option.some(2000))
        yield* server.setHandler(() => ok({ created_at: "yesterday" }))
        expect((yield* endpoint.request).serverCreatedAt).toEqual(Option.none())
      })))
  })

  describe("invalid successful responses → TokenResponseInvalid", () => {
    it.scoped("expires_in 0, negative, non-numeric, NaN", () =>
      fetchClient(Effect.gen(function*() {
        for (const expiresIn of [0, -5, "abc", "NaN", "-1"]) {
          const error = yield* failure(() => ok({ expires_in: expiresIn }))
          expect(error).toMatchObject({ _tag: "TokenResponseInvalid", status: 200 })
          assert(error._tag === "TokenResponseInvalid")
          expect(error.issue).toContain("expires_in: expected a positive number of seconds")
          expectNoSecret(error.issue)
        }
      })))

    it.scoped("missing or empty access_token, wrong types: paths and kinds only", () =>
      fetchClient(Effect.gen(function*() {
        const missing = yield* failure(() => HttpTestServer.json(200, { token_type: "Bearer", expires_in: 60 }))
        expect(missing).toMatchObject({ _tag: "TokenResponseInvalid", issue: "access_token: is missing" })
        const empty = yield* failure(() => ok({ access_token: "" }))
        expect(empty).toMatchObject({ issue: "access_token: expected a non-empty string, got a string" })
        const wrong = yield* failure(() => ok({ access_token: [TOKEN], scope: 5 }))
        expect(wrong).toMatchObject({
          issue: "access_token: expected a non-empty string, got an array; scope: expected a string, got a number"
        })
        const bare = yield* failure(() => HttpTestServer.json(200, TOKEN))
        expect(bare).toMatchObject({ issue: "body: expected a JSON object, got a string" })
      })))

    it.scoped("a 200 with malformed JSON: type and size only", () =>
      fetchClient(Effect.gen(function*() {
        const body = `{"access_token":"${TOKEN}",`
        const error = yield* failure(() => ({ status: 200, headers: { "content-type": "application/json" }, body }))
        expect(error).toMatchObject({
          _tag: "TokenResponseInvalid",
          issue: `expected a JSON body, got application/json (${body.length} bytes)`
        })
      })))

    it.scoped("a 200 with an HTML page", () =>
      fetchClient(Effect.gen(function*() {
        const body = "<html><body>Please log in</body></html>"
        const error = yield* failure(() => ({ status: 200, headers: { "content-type": "text/html" }, body }))
        expect(error).toMatchObject({
          _tag: "TokenResponseInvalid",
          issue: `expected a JSON body, got text/html (${body.length} bytes)`
        })
      })))

    it.scoped("a custom response schema that lets a non-positive lifetime through", () =>
      fetchClient(Effect.gen(function*() {
        const responseSchema = Schema.transform(
          Schema.Struct({ token: Schema.String }),
          Schema.Struct({
            accessToken: Schema.RedactedFromSelf(Schema.String),
            tokenType: Schema.String,
            expiresIn: Schema.OptionFromSelf(Schema.Number),
            scope: Schema.OptionFromSelf(Schema.String),
            createdAt: Schema.OptionFromSelf(Schema.Number)
          }),
          {
            strict: true,
            decode: ({ token }) => ({
              accessToken: Redacted.make(token),
              tokenType: "Bearer",
              expiresIn: Option.some(0),
              scope: Option.none(),
              createdAt: Option.none()
            }),
            encode: (response) => ({ token: Redacted.value(response.accessToken) })
          }
        )
        const error = yield* failure(() => HttpTestServer.json(200, { token: TOKEN }), { responseSchema })
        expect(error).toMatchObject({ _tag: "TokenResponseInvalid", issue: expect.stringContaining("expires_in") })
        const wrong = yield* failure(() => HttpTestServer.json(200, { token: 1 }), { responseSchema })
        expect(wrong).toMatchObject({ _tag: "TokenResponseInvalid", issue: "token: is invalid, got a number" })
      })))
  })

  describe("error responses (RFC 6749 §5.2)", () => {
    it.scoped("invalid_client 401 and unauthorized_client 400 → InvalidCredentials", () =>
      fetchClient(Effect.gen(function*() {
        const invalidClient = yield* failure(() =>
          HttpTestServer.json(401, { error: "invalid_client", error_description: "Client authentication failed" })
        )
        expect(invalidClient).toMatchObject({
          _tag: "InvalidCredentials",
          status: 401,
          error: "invalid_client",
          description: "Client authentication failed"
        })
        const unauthorized = yield* failure(() => HttpTestServer.json(400, { error: "unauthorized_client" }))
        expect(unauthorized).toMatchObject({ _tag: "InvalidCredentials", status: 400, error: "unauthorized_client" })
      })))

    it.scoped("401 or 403 without a recognised body → InvalidCredentials", () =>
      fetchClient(Effect.gen(function*() {
        expect(yield* failure(() => ({ status: 401, body: "Unauthorized" }))).toMatchObject({
          _tag: "InvalidCredentials",
          status: 401
        })
        expect(yield* failure(() => HttpTestServer.json(403, { message: "forbidden" }))).toMatchObject({
          _tag: "InvalidCredentials",
          status: 403
        })
      })))

    it.scoped("invalid_scope, unsupported_grant_type, invalid_request, unknown 4xx → TokenRequestRejected", () =>
      fetchClient(Effect.gen(function*() {
        for (const code of ["invalid_scope", "unsupported_grant_type", "invalid_request", "invalid_grant"]) {
          expect(yield* failure(() => HttpTestServer.json(400, { error: code }))).toMatchObject({
            _tag: "TokenRequestRejected",
            status: 400,
            error: code
          })
        }
        expect(yield* failure(() => ({ status: 404, body: "Not Found" }))).toMatchObject({
          _tag: "TokenRequestRejected",
          status: 404
        })
      })))

    it.scoped("500 and 503 → ServerError with Retry-After in seconds or as an HTTP-date", () =>
      fetchClient(Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2015-10-21T07:28:00Z"))
        const seconds = yield* failure(() =>
          HttpTestServer.json(500, { error: "server_error" }, { "retry-after": "120" })
        )
        expect(seconds).toMatchObject({ _tag: "TokenEndpointUnavailable", reason: "ServerError", status: 500 })
        assert(seconds._tag === "TokenEndpointUnavailable")
        expect(seconds.retryAfter).toEqual(Duration.seconds(120))
        expect(seconds.detail).toBe("server_error")
        const date = yield* failure(() => ({
          status: 503,
          headers: { "retry-after": "Wed, 21 Oct 2015 07:30:00 GMT" }
        }))
        expect(date).toMatchObject({ _tag: "TokenEndpointUnavailable", reason: "ServerError", status: 503 })
        assert(date._tag === "TokenEndpointUnavailable")
        expect(date.retryAfter).toEqual(Duration.millis(120_000))
        const invalid = yield* failure(() => ({ status: 503, headers: { "retry-after": "soon" } }))
        assert(invalid._tag === "TokenEndpointUnavailable")
        expect(invalid.retryAfter).toBeUndefined()
      })))

    it.scoped("429 → RateLimited with Retry-After; 408 → ServerError", () =>
      fetchClient(Effect.gen(function*() {
        const limited = yield* failure(() => ({ status: 429, headers: { "retry-after": "7" } }))
        expect(limited).toMatchObject({ _tag: "TokenEndpointUnavailable", reason: "RateLimited", status: 429 })
        assert(limited._tag === "TokenEndpointUnavailable")
        expect(limited.retryAfter).toEqual(Duration.seconds(7))
        expect(yield* failure(() => ({ status: 408 }))).toMatchObject({ reason: "ServerError", status: 408 })
      })))

    it.scoped("an HTML error page on 502 → ServerError described by type and size", () =>
      fetchClient(Effect.gen(function*() {
        const body = `<html><body><h1>502 Bad Gateway</h1>${"x".repeat(1000)}</body></html>`
        const error = yield* failure(() => ({ status: 502, headers: { "content-type": "text/html" }, body }))
        expect(error).toMatchObject({
          _tag: "TokenEndpointUnavailable",
          reason: "ServerError",
          status: 502,
          detail: `text/html (${body.length} bytes)`
        })
      })))

    it.scoped("server text is truncated and scrubbed of the secret", () =>
      fetchClient(Effect.gen(function*() {
        const error = yield* failure(() =>
          HttpTestServer.json(401, {
            error: "invalid_client",
            error_description: `secret ${SECRET} or a+b%2Bc%3Ad%2F%C3%A9 is wrong\n${"y".repeat(500)}`
          })
        )
        assert(error._tag === "InvalidCredentials")
        expect(error.description).toMatch(/^secret <redacted> or <redacted> is wrong y+…$/)
        expect(error.description?.length).toBe(201)
      })))

    it.scoped("a custom classifyError is used first, the RFC default when it returns undefined", () =>
      fetchClient(Effect.gen(function*() {
        const classifyError = (response: TokenEndpoint.ErrorResponse): TokenError | undefined =>
          Predicate.isRecord(response.body) && response.body.title === "Invalid credentials"
            ? new InvalidCredentials({ status: response.status, error: "Invalid credentials", description: SECRET })
            : undefined
        const dhl = yield* failure(
          () => HttpTestServer.json(400, { type: "https://x/docs/errors/400.0000005", title: "Invalid credentials" }),
          { classifyError }
        )
        expect(dhl).toMatchObject({
          _tag: "InvalidCredentials",
          status: 400,
          error: "Invalid credentials",
          description: "<redacted>"
        })
        const fallback = yield* failure(() => HttpTestServer.json(400, { error: "invalid_scope" }), { classifyError })
        expect(fallback).toMatchObject({ _tag: "TokenRequestRejected", error: "invalid_scope" })
      })))
  })

  describe("transport", () => {
    const redirectTest = (client: Layer.Layer<HttpClient.HttpClient>) =>
      Effect.gen(function*() {
        const target = yield* HttpTestServer.make(() => ok())
        const error = yield* failure(() => ({
          status: 302,
          headers: { location: `${target.origin}/steal?code=${TOKEN}` }
        }))
        expect(error).toMatchObject({ _tag: "TokenRequestRejected", status: 302 })
        assert(error._tag === "TokenRequestRejected")
        expect(error.description).toContain(`redirected to ${target.origin};`)
        expect(error.description).toContain("not followed")
        expect(error.description).not.toContain("/steal")
        expect(yield* target.requests).toEqual([])
      }).pipe(Effect.provide(client))

    it.scoped("a 302 is not followed (fetch): TokenRequestRejected, the target received nothing", () =>
      redirectTest(FetchHttpClient.layer))

    it.scoped("a 302 is not followed (undici)", () => redirectTest(NodeHttpClient.layerUndici))

    it.scoped("no answer within the timeout (default 10 s) → Timeout, on the TestClock", () =>
      fetchClient(Effect.gen(function*() {
        const { endpoint, server } = yield* setup(() => "hang")
        const fiber = yield* Effect.fork(endpoint.request)
        yield* server.takeRequest
        yield* TestClock.adjust("9999 millis")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 millis")
        const exit = yield* Fiber.await(fiber)
        assert(Exit.isFailure(exit))
        expect(Cause.failureOption(exit.cause)).toEqual(Option.some(expect.objectContaining({
          _tag: "TokenEndpointUnavailable",
          reason: "Timeout"
        })))
      })))

    it.scoped("connection refused → Network with a short detail", () =>
      fetchClient(Effect.gen(function*() {
        const port = yield* HttpTestServer.closedPort
        const endpoint = yield* TokenEndpoint.make({
          tokenUrl: `http://127.0.0.1:${port}/oauth/token`,
          clientId: CLIENT_ID,
          clientSecret: Redacted.make(SECRET)
        })
        const error = yield* Effect.flip(endpoint.request)
        expect(error).toMatchObject({ _tag: "TokenEndpointUnavailable", reason: "Network" })
        assert(error._tag === "TokenEndpointUnavailable")
        expect(error.detail).toContain("ECONNREFUSED")
      })))
  })

  describe("configuration", () => {
    const base = {
      tokenUrl: "https://auth.example.com/oauth/token",
      clientId: CLIENT_ID,
      clientSecret: Redacted.make(SECRET)
    }
    const configError = (options: Partial<TokenEndpoint.Options>) =>
      Effect.flip(TokenEndpoint.make({ ...base, ...options })).pipe(Effect.provide(FetchHttpClient.layer))
    const expectInvalid = (error: ConfigError.ConfigError, path: ReadonlyArray<string>) => {
      assert(ConfigError.isInvalidData(error))
      expect(error.path).toEqual(path)
      expectNoSecret(String(error))
    }

    it.effect("rejects plain http off loopback, a bad URL, userinfo, an empty id or secret, bad durations", () =>
      Effect.gen(function*() {
        const http = yield* configError({ tokenUrl: "http://example.com/token" })
        expectInvalid(http, ["tokenUrl"])
        expect(String(http)).toContain("http://example.com")
        expectInvalid(yield* configError({ tokenUrl: "not a url" }), ["tokenUrl"])
        expectInvalid(yield* configError({ tokenUrl: "https://user:pw@auth.example.com/" }), ["tokenUrl"])
        expectInvalid(yield* configError({ clientId: "" }), ["clientId"])
        expectInvalid(yield* configError({ clientSecret: Redacted.make("") }), ["clientSecret"])
        expectInvalid(yield* configError({ authMethod: "client_secret_basic_plain", clientId: "a:b" }), ["clientId"])
        expectInvalid(yield* configError({ timeout: 0 }), ["timeout"])
        expectInvalid(yield* configError({ defaultLifetime: "-1 seconds" }), ["defaultLifetime"])
        expectInvalid(yield* configError({ extraParams: { grant_type: "password" } }), ["extraParams", "grant_type"])
      }))

    it.effect("accepts https anywhere and http on loopback hosts", () =>
      Effect.gen(function*() {
        for (
          const tokenUrl of [
            "http://localhost:8080/t",
            "http://127.0.0.2/t",
            "http://[::1]:1/t",
            new URL(base.tokenUrl)
          ]
        ) {
          yield* TokenEndpoint.make({ ...base, tokenUrl })
        }
      }).pipe(Effect.provide(FetchHttpClient.layer)))

    it.scoped("layerConfig reads the options from Config; a missing variable is named", () =>
      fetchClient(Effect.gen(function*() {
        const server = yield* HttpTestServer.make(() => ok())
        const config = Config.all({
          tokenUrl: Config.string("TOKEN_URL"),
          clientId: Config.string("CLIENT_ID"),
          clientSecret: Config.redacted("CLIENT_SECRET")
        })
        const provider = (entries: Record<string, string>) =>
          Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))
        const layer = TokenEndpoint.layerConfig(config)
        const token = yield* Effect.flatMap(TokenEndpoint.TokenEndpoint, (endpoint) => endpoint.request).pipe(
          Effect.provide(layer.pipe(
            Layer.provide(provider({
              TOKEN_URL: `${server.origin}/oauth/token`,
              CLIENT_ID: CLIENT_ID,
              CLIENT_SECRET: SECRET
            }))
          ))
        )
        expect(Redacted.value(token.value)).toBe(TOKEN)
        const missing = yield* Layer.build(layer.pipe(Layer.provide(provider({ TOKEN_URL: server.origin })))).pipe(
          Effect.flip
        )
        expect(String(missing)).toContain("CLIENT_ID")
      })))
  })

  describe("secrets", () => {
    const renderError = (error: TokenError): Array<string> => [
      String(error),
      JSON.stringify(error),
      Util.inspect(error, { depth: Infinity }),
      error.message,
      Cause.pretty(Cause.fail(error))
    ]
    const renderToken = (token: AccessToken): Array<string> => [
      String(token),
      JSON.stringify(token),
      Util.inspect(token, { depth: Infinity })
    ]

    it.scoped("no error, token or span of a failing run shows the secret or the token", () =>
      fetchClient(Effect.gen(function*() {
        const recorder = yield* Recorder.make
        const echo = `${SECRET} a+b%2Bc%3Ad%2F%C3%A9 ${encodeURIComponent(SECRET)}`
        const handlers: Array<HttpTestServer.Handler> = [
          () => HttpTestServer.json(401, { error: "invalid_client", error_description: `bad secret ${SECRET}` }),
          () => HttpTestServer.json(500, { error: "server_error", error_description: echo }),
          () => ({ status: 502, headers: { "content-type": "text/html" }, body: `<p>${echo}</p>` }),
          () => ok({ expires_in: 0 }),
          () => ok({ expires_in: TOKEN, token_type: { TOKEN } }),
          () => HttpTestServer.json(200, { access_token: [TOKEN, SECRET] }),
          () => HttpTestServer.json(200, TOKEN),
          () => ({ status: 200, body: `{"access_token":"${TOKEN}"` }),
          () => ({ status: 302, headers: { location: `https://evil.example/?token=${TOKEN}&s=${SECRET}` } })
        ]
        const errors: Array<TokenError> = []
        const tokens: Array<AccessToken> = []
        for (const authMethod of ["client_secret_basic", "client_secret_basic_plain", "client_secret_post"] as const) {
          for (const handler of handlers) {
            const { endpoint } = yield* setup(handler, { authMethod })
            errors.push(yield* recorder.record(Effect.flip(endpoint.request)))
          }
          const hanging = yield* setup(() => "hang", { authMethod })
          const fiber = yield* Effect.fork(recorder.record(Effect.flip(hanging.endpoint.request)))
          yield* hanging.server.takeRequest
          yield* TestClock.adjust("10 seconds")
          errors.push(yield* Fiber.join(fiber))
          const { endpoint } = yield* setup(() => ok({ scope: "a", created_at: 1 }), { authMethod })
          tokens.push(yield* recorder.record(endpoint.request))
        }
        const port = yield* HttpTestServer.closedPort
        const unreachable = yield* TokenEndpoint.make({
          tokenUrl: `http://127.0.0.1:${port}/`,
          clientId: CLIENT_ID,
          clientSecret: Redacted.make(SECRET)
        })
        errors.push(yield* recorder.record(Effect.flip(unreachable.request)))

        expect(new Set(errors.map((error) => error._tag))).toEqual(
          new Set(["InvalidCredentials", "TokenEndpointUnavailable", "TokenResponseInvalid", "TokenRequestRejected"])
        )
        expect(errors.filter((error) => error._tag === "TokenEndpointUnavailable" && error.reason === "Timeout"))
          .toHaveLength(3)
        for (const error of errors) renderError(error).forEach(expectNoSecret)
        expect(tokens).toHaveLength(3)
        for (const token of tokens) renderToken(token).forEach(expectNoSecret)

        const requestSpans = recorder.spans.filter((span) => span.name === "TokenEndpoint.request")
        expect(requestSpans).toHaveLength((handlers.length + 2) * 3 + 1)
        expect(requestSpans[0]?.attributes.get("oauth.token_url")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/token$/)
        expect(requestSpans[0]?.attributes.get("http.response.status_code")).toBe(401)
        // The HTTP client's own span is disabled for token requests: every span here is ours, checked whole.
        expect(recorder.spans).toHaveLength(requestSpans.length)
        Recorder.renderings(recorder).forEach(expectNoSecret)
      })))
  })

  describe("parseRetryAfter", () => {
    it("reads delta-seconds and the three HTTP-date forms; rejects anything else", () => {
      const now = Date.parse("1994-11-06T08:49:00Z")
      expect(TokenEndpoint.parseRetryAfter("0", now)).toEqual(Duration.zero)
      expect(TokenEndpoint.parseRetryAfter(" 30 ", now)).toEqual(Duration.seconds(30))
      expect(TokenEndpoint.parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toEqual(Duration.millis(37_000))
      expect(TokenEndpoint.parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now)).toEqual(Duration.millis(37_000))
      expect(TokenEndpoint.parseRetryAfter("Sun Nov  6 08:49:37 1994", now)).toEqual(Duration.millis(37_000))
      expect(TokenEndpoint.parseRetryAfter("Sun, 06 Nov 1994 08:48:00 GMT", now)).toEqual(Duration.zero)
      for (const value of [undefined, "", "1.5", "-3", "1e3", "soon", "Sun, 06 Nov 1994 08:49:37 +0200"]) {
        expect(TokenEndpoint.parseRetryAfter(value, now)).toBeUndefined()
      }
    })
  })
})

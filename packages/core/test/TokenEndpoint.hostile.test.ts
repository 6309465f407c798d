/**
 * A hostile token endpoint: bodies without end or beyond reason, inflating compressed bodies, token values and types
 * no Authorization header can carry, lifetimes no schedule can honour, a server echoing the request back.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Util from "node:util"
import * as Zlib from "node:zlib"
import type { TokenError } from "../src/OAuthError.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"
import * as Fixture from "./utils/TokenEndpoint.fixture.js"

const SECRET = "a b+c:d/é\"\\"
const CLIENT_ID = "client-1"
const TOKEN = "tok_hostile_0123456789"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["node:http", NodeHttpClient.layer],
  ["undici", NodeHttpClient.layerUndici],
  ["fetch", FetchHttpClient.layer]
]

const ok = (body: Record<string, unknown> = {}) =>
  HttpTestServer.json(200, { access_token: TOKEN, token_type: "Bearer", expires_in: 3600, ...body })

const { failure, setup } = Fixture.make(CLIENT_ID, SECRET)

const fetchClient = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient | Scope.Scope>) =>
  effect.pipe(Effect.provide(FetchHttpClient.layer))

const MiB = 1024 * 1024

/** `total` bytes of `fill` after `prefix`, streamed in 64 KiB chunks with backpressure. */
const bigBody = (prefix: string, total: number, sent: { bytes: number }) => {
  let remaining = total - prefix.length
  let first = true
  const chunk = Buffer.alloc(64 * 1024, "a")
  return HttpTestServer.pump(() => {
    if (first) {
      first = false
      return prefix
    }
    if (remaining <= 0) return undefined
    const next = remaining >= chunk.length ? chunk : chunk.subarray(0, remaining)
    remaining -= next.length
    return next
  }, sent)
}

describe("TokenEndpoint against a hostile server", () => {
  describe("a redirect's body is not left pinning its connection", () => {
    for (const [name, layer] of clients) {
      it.live(`${name}: a 302 with an endless body → TokenRequestRejected, and the server sees the response closed`, () =>
        Effect.gen(function*() {
          const closed = yield* Deferred.make<void>()
          const chunk = Buffer.alloc(16 * 1024, "x")
          const { endpoint } = yield* setup(() => ({
            status: 302,
            headers: { location: "/elsewhere" },
            write: (response) => {
              response.on("close", () => Deferred.unsafeDone(closed, Exit.void))
              HttpTestServer.pump(() => chunk)(response)
            }
          }))
          const error = yield* Effect.flip(endpoint.request)
          expect(error._tag).toBe("TokenRequestRejected")
          // A failure detector, not a wait: the client drops the body at once once it has read the cap.
          const released = yield* Effect.timeout(Deferred.await(closed), "10 seconds").pipe(Effect.option)
          assert.isTrue(Option.isSome(released), "the redirect's connection stayed open")
        }).pipe(Effect.scoped, Effect.provide(layer)))
    }
  })

  describe("response bodies are read up to maxResponseBytes (default 64 KiB)", () => {
    for (const [name, layer] of clients) {
      it.scoped(`${name}: a 50 MiB 200 body → TokenResponseInvalid, and reading stops at the cap`, () =>
        Effect.gen(function*() {
          const sent = { bytes: 0 }
          const error = yield* failure(() => ({
            status: 200,
            headers: { "content-type": "application/json" },
            write: bigBody(`{"access_token":"${TOKEN}","expires_in":3600,"pad":"`, 50 * MiB, sent)
          }))
          expect(error).toMatchObject({ _tag: "TokenResponseInvalid", status: 200 })
          assert(error._tag === "TokenResponseInvalid")
          expect(error.issue).toBe(
            "the body exceeds maxResponseBytes (65536 bytes): application/json (more than 65536 bytes)"
          )
          // The client dropped the connection: the server could not hand the whole body to the socket.
          expect(sent.bytes).toBeLessThan(50 * MiB)
        }).pipe(Effect.provide(layer)))

      it.scoped(`${name}: an endless 200 body → TokenResponseInvalid at the cap`, () =>
        Effect.gen(function*() {
          const chunk = Buffer.alloc(1024, " ")
          const error = yield* failure(() => ({
            status: 200,
            headers: { "content-type": "application/json" },
            write: HttpTestServer.pump(() => chunk)
          }))
          expect(error).toMatchObject({ _tag: "TokenResponseInvalid", status: 200 })
          assert(error._tag === "TokenResponseInvalid")
          expect(error.issue).toContain("exceeds maxResponseBytes")
        }).pipe(Effect.provide(layer)))

      it.scoped(`${name}: an endless dripping body → Timeout on the TestClock (the timeout covers the body)`, () =>
        Effect.gen(function*() {
          const started = yield* Deferred.make<void>()
          const { endpoint } = yield* setup(() => ({
            status: 200,
            headers: { "content-type": "application/json" },
            write: HttpTestServer.drip(" ", 5, () => Deferred.unsafeDone(started, Exit.void))
          }))
          const fiber = yield* Effect.fork(endpoint.request)
          yield* Deferred.await(started)
          yield* TestClock.adjust("10 seconds")
          const exit = yield* Fiber.await(fiber)
          assert(Exit.isFailure(exit))
          expect(Cause.failureOption(exit.cause)).toEqual(Option.some(expect.objectContaining({
            _tag: "TokenEndpointUnavailable",
            reason: "Timeout"
          })))
        }).pipe(Effect.provide(layer)))

      it.scoped(`${name}: huge error bodies are capped and classified by status`, () =>
        Effect.gen(function*() {
          const html = { "content-type": "text/html" }
          const unavailable = yield* failure(() => ({
            status: 503,
            headers: { ...html, "retry-after": "5" },
            write: bigBody("<html>", 50 * MiB, { bytes: 0 })
          }))
          expect(unavailable).toMatchObject({
            _tag: "TokenEndpointUnavailable",
            reason: "ServerError",
            status: 503,
            retryAfter: Duration.seconds(5),
            detail: "text/html (more than 65536 bytes)"
          })
          const refused = yield* failure(() => ({
            status: 401,
            headers: { "content-type": "application/json" },
            write: bigBody(`{"error":"invalid_client","error_description":"`, 50 * MiB, { bytes: 0 })
          }))
          expect(refused).toMatchObject({ _tag: "InvalidCredentials", status: 401 })
        }).pipe(Effect.provide(layer)))
    }

    it.scoped("fetch: a gzip bomb (≈1 MiB on the wire, > 1 GiB inflated) → TokenResponseInvalid at the cap", () =>
      fetchClient(Effect.gen(function*() {
        // A valid token response padded by 72 gzip members of 16 MiB of "a" each: a gzip stream may hold several
        // members, and fetch inflates them all, transparently, as the body is read.
        const padding = Zlib.gzipSync(Buffer.alloc(16 * MiB, "a"), { level: 9 })
        const members = [
          Zlib.gzipSync(`{"access_token":"${TOKEN}","token_type":"Bearer","expires_in":3600,"pad":"`),
          ...Array.from({ length: 72 }, () => padding),
          Zlib.gzipSync(`"}`)
        ]
        // fetch inflates every member: the same framing around a short padding is a valid token response.
        const small = yield* setup(() => ({
          status: 200,
          headers: { "content-type": "application/json", "content-encoding": "gzip" },
          body: Buffer.concat([members[0]!, Zlib.gzipSync("padding"), members[members.length - 1]!])
        }))
        expect(Redacted.value((yield* small.endpoint.request).value)).toBe(TOKEN)
        const onTheWire = members.reduce((size, member) => size + member.length, 0)
        expect(onTheWire).toBeLessThan(2 * MiB)
        const sent = { bytes: 0 }
        let next = 0
        const error = yield* failure(() => ({
          status: 200,
          headers: { "content-type": "application/json", "content-encoding": "gzip" },
          write: HttpTestServer.pump(() => members[next++], sent)
        }))
        expect(error).toMatchObject({ _tag: "TokenResponseInvalid", status: 200 })
        assert(error._tag === "TokenResponseInvalid")
        expect(error.issue).toContain("exceeds maxResponseBytes (65536 bytes)")
      })))

    it.scoped("maxResponseBytes is configurable: a body of exactly the cap is read, one byte more is not", () =>
      fetchClient(Effect.gen(function*() {
        const reply = ok()
        assert(reply !== "hang" && "body" in reply && typeof reply.body === "string")
        const size = Buffer.byteLength(reply.body)
        const exact = yield* setup(() => reply, { maxResponseBytes: size })
        expect(Redacted.value((yield* exact.endpoint.request).value)).toBe(TOKEN)
        const under = yield* failure(() => reply, { maxResponseBytes: size - 1 })
        expect(under).toMatchObject({
          _tag: "TokenResponseInvalid",
          issue: `the body exceeds maxResponseBytes (${size - 1} bytes): application/json (more than ${size - 1} bytes)`
        })
      })))
  })

  describe("token values and types (RFC 6749 A.12, §7.1)", () => {
    it.scoped("an access_token with CR/LF, NUL, a tab, DEL or non-ASCII → TokenResponseInvalid, never quoted", () =>
      fetchClient(Effect.gen(function*() {
        for (
          const value of [
            `${TOKEN}\r\nX-Injected: 1`,
            `${TOKEN}\n`,
            `${TOKEN}\u0000`,
            `${TOKEN}\t`,
            `${TOKEN}\u007f`,
            `${TOKEN}é`,
            `${TOKEN}\u2028`
          ]
        ) {
          const error = yield* failure(() => ok({ access_token: value }))
          expect(error).toMatchObject({
            _tag: "TokenResponseInvalid",
            status: 200,
            issue: "access_token: expected 1*VSCHAR (printable ASCII, RFC 6749 A.12), got other characters"
          })
          for (const rendering of [error.message, JSON.stringify(error), Util.inspect(error)]) {
            expect(rendering).not.toContain(TOKEN)
          }
        }
        // Every VSCHAR is accepted, space included.
        const vschars = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("")
        const { endpoint } = yield* setup(() => ok({ access_token: vschars }))
        expect(Redacted.value((yield* endpoint.request).value)).toBe(vschars)
      })))

    it.scoped("token_type: Bearer in any case or missing is accepted; anything else is refused, named", () =>
      fetchClient(Effect.gen(function*() {
        for (const tokenType of ["Bearer", "bearer", "BEARER"]) {
          const { endpoint } = yield* setup(() => ok({ token_type: tokenType }))
          expect((yield* endpoint.request).tokenType).toBe(tokenType)
        }
        const { endpoint } = yield* setup(() => HttpTestServer.json(200, { access_token: TOKEN }))
        expect((yield* endpoint.request).tokenType).toBe("Bearer")
        for (const tokenType of ["mac", "DPoP", "Basic", "N_A"]) {
          const error = yield* failure(() => ok({ token_type: tokenType }))
          expect(error).toMatchObject({
            _tag: "TokenResponseInvalid",
            issue: `token_type: expected Bearer (RFC 6750), got "${tokenType}", which this client does not support`
          })
        }
        // Server text that is long, has line breaks or carries the token is described, not quoted.
        for (const tokenType of ["x".repeat(500), "Bearer\r\nX-Injected: 1", `${TOKEN}`, ""]) {
          const error = yield* failure(() => ok({ token_type: tokenType }))
          assert(error._tag === "TokenResponseInvalid")
          expect(error.issue).toBe(
            `token_type: expected Bearer (RFC 6750), got a string of ${tokenType.length} characters, which this client does not support`
          )
        }
      })))

    it.scoped("a lifetime under 1 second → TokenResponseInvalid saying the minimum; 1 second is accepted", () =>
      fetchClient(Effect.gen(function*() {
        for (const expiresIn of [0.001, "1e-9", 0.5, "0.999", 1e-300]) {
          const error = yield* failure(() => ok({ expires_in: expiresIn }))
          expect(error).toMatchObject({
            _tag: "TokenResponseInvalid",
            issue: expect.stringMatching(
              /^expires_in: expected a positive number of seconds, at least 1 \(a number or a numeric string\), got a (number|string)$/
            )
          })
        }
        for (const expiresIn of [1, "1", "1e3", 1.5]) {
          const { endpoint } = yield* setup(() => ok({ expires_in: expiresIn }))
          const token = yield* endpoint.request
          expect(token.lifetimeMillis).toBe(Number(expiresIn) * 1000)
        }
      })))
  })

  describe("secret scrubbing: every form the client sent, echoed back by the server", () => {
    const form = (value: string) => new URLSearchParams([["", value]]).toString().slice(1)
    // Computed here, independently of the library: what each encoding and auth method puts on the wire.
    const forms = [
      SECRET,
      form(SECRET),
      encodeURIComponent(SECRET),
      JSON.stringify(SECRET).slice(1, -1),
      Buffer.from(`${CLIENT_ID}:${form(SECRET)}`).toString("base64"),
      Buffer.from(`${CLIENT_ID}:${SECRET}`).toString("base64")
    ]
    // Fragments every unscrubbed form would leave behind.
    const fragments = ["b+c:d/é", "b%2Bc%3Ad", "b+c:d/\\u00e9"]

    // The part of the request that holds the secret, whatever the encoding: the body from the secret's field, and
    // the Authorization header.
    const echo = (request: HttpTestServer.RecordedRequest): string => {
      const at = request.body.indexOf("client_secret")
      return `${at === -1 ? "" : request.body.slice(at, at + 80)} auth=${request.headers.authorization ?? "none"}`
    }

    const encodings: ReadonlyArray<TokenEndpoint.Encoding> = ["form", "multipart", "json"]
    const authMethods: ReadonlyArray<TokenEndpoint.AuthMethod> = [
      "client_secret_basic",
      "client_secret_basic_plain",
      "client_secret_post"
    ]
    for (const encoding of encodings) {
      for (const authMethod of authMethods) {
        it.scoped(`${encoding} + ${authMethod}`, () =>
          fetchClient(Effect.gen(function*() {
            const handlers: Array<HttpTestServer.Handler> = [
              (request) => HttpTestServer.json(401, { error: "invalid_client", error_description: echo(request) }),
              (request) => HttpTestServer.json(500, { error: echo(request) }),
              (request) => HttpTestServer.json(400, { error: "invalid_request", error_description: request.body }),
              (request) => ({ status: 503, headers: { "content-type": "text/plain" }, body: echo(request) })
            ]
            const classifyError = (response: TokenEndpoint.ErrorResponse): TokenError | undefined =>
              typeof response.body === "string"
                ? TokenEndpoint.classifyRfc6749Error({ ...response, body: { error: response.body } })
                : undefined
            const errors: Array<TokenError> = []
            for (const handler of handlers) {
              errors.push(yield* failure(handler, { encoding, authMethod, classifyError }))
            }
            const renderings = errors.flatMap((error) => [
              error.message,
              JSON.stringify(error),
              Util.inspect(error, { depth: Infinity }),
              Cause.pretty(Cause.fail(error))
            ])
            // The echo reached the errors (so the test can fail), scrubbed.
            expect(errors.filter((error) => error.message.includes("<redacted>")).length).toBeGreaterThanOrEqual(3)
            for (const rendering of renderings) {
              for (const secret of [...forms, ...fragments]) expect(rendering).not.toContain(secret)
            }
          })))
      }
    }
  })

  describe("Retry-After is clamped to maxRetryAfter (10 minutes)", () => {
    it("a 400-digit delta, a large delta and a far date give maxRetryAfter; smaller values pass", () => {
      const now = Date.parse("2025-01-15T10:00:00Z")
      expect(TokenEndpoint.maxRetryAfter).toEqual(Duration.minutes(10))
      expect(TokenEndpoint.parseRetryAfter("9".repeat(400), now)).toEqual(TokenEndpoint.maxRetryAfter)
      expect(TokenEndpoint.parseRetryAfter("601", now)).toEqual(TokenEndpoint.maxRetryAfter)
      expect(TokenEndpoint.parseRetryAfter("600", now)).toEqual(Duration.seconds(600))
      expect(TokenEndpoint.parseRetryAfter("599", now)).toEqual(Duration.seconds(599))
      expect(TokenEndpoint.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now)).toEqual(TokenEndpoint.maxRetryAfter)
      expect(TokenEndpoint.parseRetryAfter("Wed, 15 Jan 2025 10:05:00 GMT", now)).toEqual(Duration.minutes(5))
    })

    it.scoped("a 503 with a 400-digit Retry-After says 10 minutes, not Infinity", () =>
      fetchClient(Effect.gen(function*() {
        const error = yield* failure(() => ({ status: 503, headers: { "retry-after": "9".repeat(400) } }))
        expect(error).toMatchObject({ _tag: "TokenEndpointUnavailable", retryAfter: Duration.minutes(10) })
        expect(error.message).not.toContain("Infinity")
        expect(error.message).toContain("retry after 10m")
      })))
  })
})

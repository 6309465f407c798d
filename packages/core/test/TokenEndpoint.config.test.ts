/**
 * `TokenEndpoint.make` from plain JavaScript: every bad option is a `ConfigError` naming the field, in the error
 * channel (never a throw or a defect); the service's `key`; the multipart encoder's framing.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import { multipart } from "../src/internal/body.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"

const SECRET = "a b+c:d/é\"\\"
const base = {
  tokenUrl: "https://auth.example.com/oauth/token",
  clientId: "client-1",
  clientSecret: Redacted.make(SECRET)
}

/** Builds the endpoint from options as untyped JavaScript could pass them. */
const build = (options: unknown) =>
  Effect.exit(TokenEndpoint.make(options as TokenEndpoint.Options)).pipe(Effect.provide(FetchHttpClient.layer))

describe("TokenEndpoint.make configuration", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, ReadonlyArray<string>]> = [
    ["a numeric clientId", { clientId: 123 }, ["clientId"]],
    ["a missing clientId", { clientId: undefined }, ["clientId"]],
    ["a plain-string clientSecret", { clientSecret: SECRET }, ["clientSecret"]],
    ["a Redacted number as clientSecret", { clientSecret: Redacted.make(42) }, ["clientSecret"]],
    ["a missing clientSecret", { clientSecret: undefined }, ["clientSecret"]],
    ["a missing tokenUrl", { tokenUrl: undefined }, ["tokenUrl"]],
    ["a numeric tokenUrl", { tokenUrl: 5 }, ["tokenUrl"]],
    ["an object as tokenUrl", { tokenUrl: {} }, ["tokenUrl"]],
    ["an unknown encoding", { encoding: "xml" }, ["encoding"]],
    ["a numeric encoding", { encoding: 1 }, ["encoding"]],
    ["an unknown authMethod", { authMethod: "private_key_jwt" }, ["authMethod"]],
    ["a numeric scope", { scope: 5 }, ["scope"]],
    ["a scope list with a number", { scope: ["a", 1] }, ["scope"]],
    ["an object as audience", { audience: {} }, ["audience"]],
    ["a resource list with a number", { resource: [1] }, ["resource"]],
    ["a numeric extraParams value", { extraParams: { ttl: 600 } }, ["extraParams", "ttl"]],
    ["extraParams as a string", { extraParams: "ttl=600" }, ["extraParams"]],
    ["a numeric header value", { headers: { "x-app": 1 } }, ["headers", "x-app"]],
    ["a header value with CR/LF", { headers: { "x-app": "a\r\nx-injected: 1" } }, ["headers", "x-app"]],
    ["a header name with a space", { headers: { "x app": "1" } }, ["headers", "x app"]],
    ["a responseSchema that is not a Schema", { responseSchema: "json" }, ["responseSchema"]],
    ["a classifyError that is not a function", { classifyError: {} }, ["classifyError"]],
    ["a timeout that is not a duration", { timeout: "soon" }, ["timeout"]],
    ["an infinite timeout", { timeout: Infinity }, ["timeout"]],
    ["a timeout beyond 10 minutes (a 30-day timer would never fire)", { timeout: "30 days" }, ["timeout"]],
    ["a defaultLifetime beyond a year", { defaultLifetime: "400 days" }, ["defaultLifetime"]],
    ["a defaultLifetime under the 1 second minimum", { defaultLifetime: "500 millis" }, ["defaultLifetime"]],
    ["a zero maxResponseBytes", { maxResponseBytes: 0 }, ["maxResponseBytes"]],
    ["a negative maxResponseBytes", { maxResponseBytes: -1 }, ["maxResponseBytes"]],
    ["a fractional maxResponseBytes", { maxResponseBytes: 1.5 }, ["maxResponseBytes"]],
    ["an infinite maxResponseBytes", { maxResponseBytes: Infinity }, ["maxResponseBytes"]],
    ["a string maxResponseBytes", { maxResponseBytes: "64" }, ["maxResponseBytes"]]
  ]
  for (const [name, options, path] of cases) {
    it.effect(`${name} → ConfigError at ${path.join(".")}, as a failure`, () =>
      Effect.gen(function*() {
        const exit = yield* build({ ...base, ...options })
        assert(Exit.isFailure(exit))
        // A failure, not a defect or an interruption.
        expect(Cause.isDie(exit.cause)).toBe(false)
        const error = Cause.failureOption(exit.cause)
        assert(error._tag === "Some")
        assert(ConfigError.isInvalidData(error.value))
        expect(error.value.path).toEqual(path)
        expect(String(error.value)).not.toContain(SECRET)
      }))
  }

  it.effect("options that are not an object → ConfigError, as a failure", () =>
    Effect.gen(function*() {
      for (const options of [undefined, null, "https://auth.example.com", 5]) {
        const exit = yield* build(options)
        assert(Exit.isFailure(exit))
        const error = Cause.failureOption(exit.cause)
        assert(error._tag === "Some")
        expect(ConfigError.isInvalidData(error.value)).toBe(true)
      }
    }))

  it.effect("valid edge values are accepted: maxResponseBytes 1, defaultLifetime 1 second", () =>
    Effect.gen(function*() {
      const exit = yield* build({ ...base, maxResponseBytes: 1, defaultLifetime: "1 second" })
      expect(Exit.isSuccess(exit)).toBe(true)
    }))
})

describe("TokenEndpoint key", () => {
  const keyOf = (options: Partial<TokenEndpoint.Options>) =>
    TokenEndpoint.make({ ...base, ...options }).pipe(
      Effect.map((endpoint) => endpoint.key),
      Effect.provide(FetchHttpClient.layer)
    )

  it.effect("the token URL with its query (not the fragment) and the client id; never the secret", () =>
    Effect.gen(function*() {
      const key = yield* keyOf({ tokenUrl: "https://auth.example.com:8443/oauth/token?tenant=1#x" })
      expect(key).toBe("https://auth.example.com:8443/oauth/token?tenant=1 client_id=client-1")
    }))

  it.effect("everything that decides the token is in the key: query, extra fields, extra headers (fingerprinted)", () =>
    Effect.gen(function*() {
      const keys = [
        yield* keyOf({}),
        yield* keyOf({ tokenUrl: "https://auth.example.com/oauth/token?tenant=A" }),
        yield* keyOf({ tokenUrl: "https://auth.example.com/oauth/token?tenant=B" }),
        yield* keyOf({ extraParams: { ttl: "60" } }),
        yield* keyOf({ extraParams: { ttl: "3600" } }),
        yield* keyOf({ headers: { "x-tenant": "A" } }),
        yield* keyOf({ headers: { "x-tenant": "B" } })
      ]
      expect(new Set(keys).size).toBe(keys.length)
      // Order-insensitive, and a header value (possibly an API key) never appears as such.
      expect(yield* keyOf({ extraParams: { a: "1", b: "2" } })).toBe(yield* keyOf({ extraParams: { b: "2", a: "1" } }))
      const withKey = yield* keyOf({ headers: { "x-api-key": "k-0123456789-sensitive" } })
      expect(withKey).not.toContain("k-0123456789-sensitive")
      expect(withKey).toMatch(/ headers=[0-9a-f]{16}$/)
    }))

  it.effect("scope (sorted, deduplicated), audience and resource (sorted) when set; values form-urlencoded", () =>
    Effect.gen(function*() {
      const key = yield* keyOf({
        clientId: "client id/1",
        scope: ["orders:write", "orders:read", "orders:write"],
        audience: "https://api.example.com",
        resource: ["https://r2.example.com", "https://r1.example.com"]
      })
      expect(key).toBe(
        "https://auth.example.com/oauth/token client_id=client+id%2F1 scope=orders%3Aread+orders%3Awrite" +
          " audience=https%3A%2F%2Fapi.example.com resource=https%3A%2F%2Fr1.example.com" +
          " resource=https%3A%2F%2Fr2.example.com"
      )
      // The same token whatever order the scopes are listed in, or whether they come as one string.
      expect(yield* keyOf({ scope: "b a" })).toBe(yield* keyOf({ scope: ["a", "b"] }))
      // Different clients, scopes and endpoints get different keys; the secret and the auth method do not matter.
      const keys = new Set([
        yield* keyOf({}),
        yield* keyOf({ clientId: "client-2" }),
        yield* keyOf({ scope: "a" }),
        yield* keyOf({ tokenUrl: "https://auth.example.com/oauth/token2" })
      ])
      expect(keys.size).toBe(4)
      expect(yield* keyOf({ clientSecret: Redacted.make("other"), authMethod: "client_secret_post" })).toBe(
        yield* keyOf({})
      )
    }))
})

describe("multipart/form-data encoding (RFC 7578)", () => {
  it("frames each field with CRLF and the boundary, values as UTF-8 bytes", () => {
    const body = multipart([["grant_type", "client_credentials"], ["client_secret", SECRET]], () => "BOUNDARY")
    expect(body.contentType).toBe("multipart/form-data; boundary=BOUNDARY")
    expect(new TextDecoder().decode(body.bytes)).toBe(
      "--BOUNDARY\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n" +
        `--BOUNDARY\r\nContent-Disposition: form-data; name="client_secret"\r\n\r\n${SECRET}\r\n` +
        "--BOUNDARY--\r\n"
    )
  })

  it("escapes quotes and line breaks in names; picks another boundary when a value contains it", async () => {
    const boundaries = ["x", "BOUNDARY"]
    const body = multipart([["a\"b\r\nc", "value with x inside"]], () => boundaries.shift() ?? "unused")
    expect(body.contentType).toBe("multipart/form-data; boundary=BOUNDARY")
    const text = new TextDecoder().decode(body.bytes)
    expect(text).toContain("name=\"a%22b%0D%0Ac\"")
    const form = await new Response(Buffer.from(body.bytes), { headers: { "content-type": body.contentType } })
      .formData()
    expect(form.get("a\"b\r\nc")).toBe("value with x inside")
  })

  it("uses a fresh random boundary per body", () => {
    const a = multipart([["k", "v"]])
    const b = multipart([["k", "v"]])
    expect(a.contentType).toMatch(/^multipart\/form-data; boundary=effect-oauth-[0-9a-f]{32}$/)
    expect(a.contentType).not.toBe(b.contentType)
  })
})

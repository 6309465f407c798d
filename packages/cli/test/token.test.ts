import { assert, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { RunningEmulator } from "./utils.js"
import { admin, emulator, platform, run, tokenLike } from "./utils.js"

class Bringg extends Context.Tag("test/Bringg")<Bringg, RunningEmulator>() {}

const secret = "oms-s3cr3t-Qw7"
const Emulators = Layer.scoped(
  Bringg,
  emulator(["--provider", "bringg", "--client", `oms:${secret}`, "--lifetime", "90s"])
)
  .pipe(Layer.provideMerge(platform))

const env = (baseUrl: string) => ({ BRINGG_BASE_URL: baseUrl, BRINGG_CLIENT_ID: "oms", BRINGG_CLIENT_SECRET: secret })

// The fields of `token --json`, in order, for every provider.
const jsonKeys = ["provider", "tokenType", "scope", "lifetimeSeconds", "issuedAt", "expiresAt", "serverClockSkewMillis"]

const lines = (text: string) => text.split("\n").filter((line) => line !== "")

layer(Emulators, { timeout: 120_000 })("effect-oauth token", (it) => {
  it.effect("prints what came back, the token hidden unless --show-token", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Bringg
      const hidden = yield* run(["token", "bringg"], { env: env(baseUrl) })
      assert.strictEqual(hidden.exitCode, 0, hidden.stderr)
      assert.strictEqual(hidden.stderr, "")
      const rows = Object.fromEntries(lines(hidden.stdout).map((line) => [line.slice(0, 12).trim(), line.slice(14)]))
      assert.deepStrictEqual(Object.keys(rows), [
        "provider",
        "token type",
        "scope",
        "lifetime",
        "expires at",
        "clock skew",
        "access token"
      ])
      assert.strictEqual(rows["token type"], "Bearer")
      assert.strictEqual(rows["lifetime"], "1 min 30 s (90 s)")
      assert.match(rows["expires at"]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in 1 min (?:2\d|30) s\)$/)
      // Same machine, same clock: the skew is the response's latency plus created_at's truncation to a second, so a
      // loaded machine may read a second or two; more would be a real bug.
      assert.match(
        rows["clock skew"]!,
        /^(\d\.\d s \(within created_at's whole-second precision\)|the server's clock is [12] s behind this machine's)$/
      )
      assert.strictEqual(rows["access token"], "hidden (--show-token prints it)")
      assert.notMatch(hidden.stdout, tokenLike)
      assert.notInclude(hidden.stdout, secret)

      const shown = yield* run(["token", "bringg", "--show-token"], { env: env(baseUrl) })
      assert.strictEqual(shown.exitCode, 0)
      const token = lines(shown.stdout).at(-1)!.replace(/^access token\s+/, "")
      assert.match(token, tokenLike) // what the check above would have caught
      assert.notInclude(shown.stdout, secret)
    }))

  it.effect("--json prints one object for scripts, the secret from --secret-stdin", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Bringg
      const { BRINGG_CLIENT_SECRET: _, ...noSecret } = env(baseUrl)
      const result = yield* run(["token", "bringg", "--json", "--secret-stdin"], {
        env: noSecret,
        stdin: `${secret}\n`
      })
      assert.strictEqual(result.exitCode, 0, result.stderr)
      assert.strictEqual(lines(result.stdout).length, 1)
      const body = JSON.parse(result.stdout)
      assert.deepStrictEqual(Object.keys(body), jsonKeys)
      assert.strictEqual(body.provider, "bringg")
      assert.strictEqual(body.tokenType, "Bearer")
      assert.strictEqual(body.scope, null)
      assert.strictEqual(body.lifetimeSeconds, 90)
      assert.strictEqual(Date.parse(body.expiresAt) - Date.parse(body.issuedAt), 90_000)
      assert.isNumber(body.serverClockSkewMillis) // Bringg sends created_at
      assert.isBelow(Math.abs(body.serverClockSkewMillis), 2_000)

      const shown = yield* run(["token", "bringg", "--json", "--show-token"], { env: env(baseUrl) })
      assert.match(JSON.parse(shown.stdout).accessToken, tokenLike)
    }))

  const cases: ReadonlyArray<
    readonly [what: string, fault: unknown, env: Record<string, string>, code: number, message: RegExp]
  > = [
    ["a wrong secret", undefined, { BRINGG_CLIENT_SECRET: "wrong-secret" }, 3, /^InvalidCredentials: .*HTTP 401/],
    ["a 503", { type: "status", status: 503, retryAfter: 7 }, {}, 4, /^TokenEndpointUnavailable: .*503.*after 7s/],
    ["a connection reset", { type: "reset" }, {}, 4, /^TokenEndpointUnavailable: .*Network/],
    ["a malformed token response", { type: "malformed" }, {}, 5, /^TokenResponseInvalid: /],
    ["a 400", { type: "status", status: 400 }, {}, 6, /^TokenRequestRejected: .*invalid_request/],
    ["no secret", undefined, { BRINGG_CLIENT_SECRET: "" }, 2, /^BRINGG_CLIENT_SECRET is not set/],
    ["both a region and a base URL", undefined, { BRINGG_REGION: "us2" }, 2, /both set/],
    ["a bad BRINGG_TTL", undefined, { BRINGG_TTL: "-5" }, 2, /^BRINGG_TTL/]
  ]
  for (const [what, fault, overrides, code, message] of cases) {
    it.effect(`exit ${code} and one line on stderr for ${what}, never the secret`, () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Bringg
        yield* admin(baseUrl, "/faults", undefined, "DELETE")
        if (fault !== undefined) assert.strictEqual((yield* admin(baseUrl, "/faults", fault)).status, 201)
        const result = yield* run(["token", "bringg"], { env: { ...env(baseUrl), ...overrides } })
        assert.strictEqual(result.exitCode, code, result.stderr)
        assert.strictEqual(result.stdout, "")
        const errors = lines(result.stderr)
        assert.strictEqual(errors.length, 1, result.stderr)
        assert.match(errors[0]!.replace(/^effect-oauth token: /, ""), message)
        assert.notInclude(result.stderr, secret)
      }), 120_000)
  }

  it.effect(
    "--verbose adds the error's fields and the library's log lines, no stack trace, no secret",
    () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Bringg
        yield* admin(baseUrl, "/faults", { type: "status", status: 503, retryAfter: 7 })
        const result = yield* run(["token", "bringg", "--verbose"], { env: env(baseUrl) })
        assert.strictEqual(result.exitCode, 4)
        const errors = lines(result.stderr)
        assert.isAbove(errors.length, 1)
        assert.isTrue(errors.some((line) => line.startsWith("effect-oauth token: TokenEndpointUnavailable: ")))
        assert.isTrue(errors.some((line) => line.includes("\"_tag\":\"TokenEndpointUnavailable\"")))
        assert.notMatch(result.stderr, /\n\s+at /)
        assert.notInclude(result.stderr, secret)
        assert.notMatch(result.stderr, tokenLike)
      }),
    120_000
  )
})

class Dhl extends Context.Tag("test/Dhl")<Dhl, RunningEmulator>() {}

const dhlSecret = "dhl-s3cr3t-Hk5"
const DhlEmulator = Layer.scoped(
  Dhl,
  emulator(["--provider", "dhl", "--client", `tracking:${dhlSecret}`, "--lifetime", "15m"])
).pipe(Layer.provideMerge(platform))

const dhlEnv = (baseUrl: string) => ({
  DHL_ECOMMERCE_ENVIRONMENT: "sandbox",
  DHL_ECOMMERCE_BASE_URL: baseUrl,
  DHL_ECOMMERCE_CLIENT_ID: "tracking",
  DHL_ECOMMERCE_CLIENT_SECRET: dhlSecret
})

layer(DhlEmulator, { timeout: 120_000 })("effect-oauth token dhl", (it) => {
  it.effect("dhl: prints what came back, no clock skew without created_at, the token hidden unless --show-token", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Dhl
      const hidden = yield* run(["token", "dhl"], { env: dhlEnv(baseUrl) })
      assert.strictEqual(hidden.exitCode, 0, hidden.stderr)
      assert.strictEqual(hidden.stderr, "")
      const rows = Object.fromEntries(lines(hidden.stdout).map((line) => [line.slice(0, 12).trim(), line.slice(14)]))
      assert.deepStrictEqual(rows, {
        provider: "dhl",
        "token type": "Bearer",
        scope: "-",
        lifetime: "15 min (900 s)",
        "expires at": rows["expires at"]!,
        "clock skew": "-",
        "access token": "hidden (--show-token prints it)"
      })
      assert.match(rows["expires at"]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in 1[45] min(?: \d+ s)?\)$/)
      assert.notMatch(hidden.stdout, tokenLike)
      assert.notInclude(hidden.stdout, dhlSecret)

      const shown = yield* run(["token", "dhl", "--show-token"], { env: dhlEnv(baseUrl) })
      assert.strictEqual(shown.exitCode, 0, shown.stderr)
      const token = lines(shown.stdout).at(-1)!.replace(/^access token\s+/, "")
      assert.match(token, tokenLike)
      assert.notInclude(shown.stdout, dhlSecret)
    }))

  it.effect("dhl --json: one object, flags over DHL_ECOMMERCE_* and the secret from --secret-stdin", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Dhl
      // Every variable wrong or missing: the flags and standard input replace them.
      const result = yield* run(
        ["token", "dhl", "--json", "--secret-stdin", "--client-id", "tracking", "--base-url", baseUrl],
        {
          env: {
            DHL_ECOMMERCE_ENVIRONMENT: "sandbox",
            DHL_ECOMMERCE_BASE_URL: "http://127.0.0.1:9",
            DHL_ECOMMERCE_CLIENT_ID: "nobody"
          },
          stdin: `${dhlSecret}\n`
        }
      )
      assert.strictEqual(result.exitCode, 0, result.stderr)
      assert.strictEqual(lines(result.stdout).length, 1)
      const body = JSON.parse(result.stdout)
      assert.deepStrictEqual(Object.keys(body), jsonKeys)
      assert.strictEqual(body.provider, "dhl")
      assert.strictEqual(body.tokenType, "Bearer")
      assert.strictEqual(body.scope, null)
      assert.strictEqual(body.lifetimeSeconds, 900)
      assert.strictEqual(Date.parse(body.expiresAt) - Date.parse(body.issuedAt), 900_000)
      assert.strictEqual(body.serverClockSkewMillis, null) // DHL sends no created_at
      assert.notInclude(result.stdout, dhlSecret)

      const shown = yield* run(["token", "dhl", "--json", "--show-token"], { env: dhlEnv(baseUrl) })
      assert.strictEqual(shown.exitCode, 0, shown.stderr)
      assert.match(JSON.parse(shown.stdout).accessToken, tokenLike)
    }))

  const dhlCases: ReadonlyArray<
    readonly [what: string, fault: unknown, env: Record<string, string>, code: number, message: RegExp]
  > = [
    ["a wrong secret", undefined, { DHL_ECOMMERCE_CLIENT_SECRET: "wrong-secret" }, 3, /^InvalidCredentials: /],
    ["an unknown client", undefined, { DHL_ECOMMERCE_CLIENT_ID: "nobody" }, 3, /^InvalidCredentials: /],
    ["a 503", { type: "status", status: 503 }, {}, 4, /^TokenEndpointUnavailable: .*503/],
    ["a bad DHL_ECOMMERCE_ENVIRONMENT", undefined, { DHL_ECOMMERCE_ENVIRONMENT: "staging" }, 2, /ENVIRONMENT/]
  ]
  for (const [what, fault, overrides, code, message] of dhlCases) {
    it.effect(`dhl: exit ${code} and one line on stderr for ${what}, never the secret`, () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Dhl
        yield* admin(baseUrl, "/faults", undefined, "DELETE")
        if (fault !== undefined) assert.strictEqual((yield* admin(baseUrl, "/faults", fault)).status, 201)
        const result = yield* run(["token", "dhl"], { env: { ...dhlEnv(baseUrl), ...overrides } })
        assert.strictEqual(result.exitCode, code, result.stderr)
        assert.strictEqual(result.stdout, "")
        const errors = lines(result.stderr)
        assert.strictEqual(errors.length, 1, result.stderr)
        assert.match(errors[0]!.replace(/^effect-oauth token: /, ""), message)
        assert.notInclude(result.stderr, dhlSecret)
        assert.notInclude(result.stderr, "wrong-secret")
      }), 120_000)
  }
})

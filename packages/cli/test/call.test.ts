import { assert, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { RunningEmulator } from "./utils.js"
import { admin, emulator, platform, run, tokenLike } from "./utils.js"

class Dhl extends Context.Tag("test/Dhl")<Dhl, RunningEmulator>() {}

const secret = "dhl-s3cr3t-Vb2"
const Emulators = Layer.scoped(Dhl, emulator(["--provider", "dhl", "--client", `tracking:${secret}`])).pipe(
  Layer.provideMerge(platform)
)

const env = (baseUrl: string) => ({
  DHL_ECOMMERCE_ENVIRONMENT: "sandbox",
  DHL_ECOMMERCE_BASE_URL: baseUrl,
  DHL_ECOMMERCE_CLIENT_ID: "tracking",
  DHL_ECOMMERCE_CLIENT_SECRET: secret
})

const stats = (baseUrl: string) =>
  Effect.map(admin(baseUrl, "/stats", undefined, "GET"), (reply) => reply.body as Record<string, number>)

layer(Emulators, { timeout: 120_000 })("effect-oauth call", (it) => {
  it.effect("prints status, headers and body of one authorized call", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Dhl
      yield* admin(baseUrl, "/faults", undefined, "DELETE")
      const result = yield* run(["call", "dhl", "GET", "/tracking/v4/package?trackingId=GM123"], { env: env(baseUrl) })
      assert.strictEqual(result.exitCode, 0, result.stderr)
      const [status, ...rest] = result.stdout.split("\n")
      assert.strictEqual(status, "HTTP 200")
      assert.include(rest, "content-type: application/json")
      const body = JSON.parse(rest[rest.indexOf("") + 1]!)
      assert.deepStrictEqual(body, {
        success: true,
        path: "/tracking/v4/package",
        method: "GET",
        client_id: "tracking"
      })
      assert.notMatch(result.stdout, tokenLike)
      assert.notInclude(result.stdout + result.stderr, secret)
    }), 120_000)

  it.effect(
    "a revoked token: one 401, one new token, the call replayed and answered 200",
    () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Dhl
        yield* admin(baseUrl, "/faults", undefined, "DELETE")
        const before = yield* stats(baseUrl)
        yield* admin(baseUrl, "/faults", { type: "revoked" })
        const result = yield* run(
          ["call", "dhl", "POST", "/shipping/v4/label", "--data", "{\"parcel\":1}", "--json", "--verbose"],
          { env: env(baseUrl) }
        )
        assert.strictEqual(result.exitCode, 0, result.stderr)
        const reply = JSON.parse(result.stdout)
        assert.strictEqual(reply.status, 200)
        assert.strictEqual(reply.body.method, "POST")
        const after = yield* stats(baseUrl)
        assert.strictEqual(after["tokensIssued"]! - before["tokensIssued"]!, 2)
        assert.strictEqual(after["resourceRequests"]! - before["resourceRequests"]!, 2)
        assert.strictEqual(after["resourceRejections"]! - before["resourceRejections"]!, 1)
        assert.match(result.stderr, /invalidated/) // --verbose shows the library's log line
        assert.notMatch(result.stdout + result.stderr, tokenLike)
        assert.notInclude(result.stdout + result.stderr, secret)
      }),
    120_000
  )

  it.effect("exit 7 when the API refuses the fresh token too", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Dhl
      yield* admin(baseUrl, "/faults", undefined, "DELETE")
      yield* admin(baseUrl, "/faults", { type: "revoked", times: 2 })
      const result = yield* run(["call", "dhl", "GET", "/tracking/v4/package"], { env: env(baseUrl) })
      assert.strictEqual(result.exitCode, 7, result.stderr)
      assert.strictEqual(result.stdout, "")
      assert.match(result.stderr, /^effect-oauth call: AccessTokenRejected: GET .*\/tracking\/v4\/package .*401/)
      assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1)
    }), 120_000)

  it.effect(
    "usage errors exit 2 with one line: a bad method, a header carrying a token, a flag of another provider",
    () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Dhl
        const cases = [
          [["call", "dhl", "get", "/x"], /METHOD must be upper case/],
          [["call", "dhl", "GET", "/x", "-H", "Authorization: Bearer abc"], /the token is added by the client/],
          [["call", "dhl", "GET", "/x", "--region", "us2"], /--region does not apply to dhl/],
          [["call", "dhl", "GET", "https://elsewhere.example/x"], /relative to the API base URL/]
        ] as const
        for (const [args, message] of cases) {
          const result = yield* run(args, { env: env(baseUrl) })
          assert.strictEqual(result.exitCode, 2, result.stderr)
          assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1)
          assert.match(result.stderr, message)
        }
      }),
    120_000
  )
})

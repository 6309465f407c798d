/**
 * Options a user can get wrong: `ttl` as a bare number, absolute request URLs, an empty secret in the environment,
 * and untyped JavaScript input. Each fails with a `ConfigError` naming the field, in the error channel.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as BringgClient from "../src/BringgClient.js"
import { OMS } from "./utils.js"

// An HttpClient standing in for Bringg: a token at `/oauth/token`, `{}` elsewhere; records URL, header and body.
const fakeBringg = Effect.sync(() => {
  const seen: Array<{ readonly url: string; readonly authorization: string | undefined; readonly body?: string }> = []
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : undefined
      seen.push({ url: request.url, authorization: request.headers.authorization, ...(body && { body }) })
      const answer = new URL(request.url).pathname === "/oauth/token"
        ? { access_token: "fake-access-token", token_type: "Bearer", expires_in: 1800 }
        : {}
      return HttpClientResponse.fromWeb(request, new Response(JSON.stringify(answer), { status: 200 }))
    })
  )
  return { seen, layer: Layer.succeed(HttpClient.HttpClient, client) }
})

const credentials = { clientId: OMS.id, clientSecret: Redacted.make(OMS.secret) }

// The ConfigError `make` fails with (a failure, never a defect), as `{ path, message }`.
const failure = (options: unknown) =>
  Effect.gen(function*() {
    const bringg = yield* fakeBringg
    const exit = yield* Effect.exit(
      Effect.scoped(BringgClient.make(options as BringgClient.Options)).pipe(Effect.provide(bringg.layer))
    )
    assert.strictEqual(bringg.seen.length, 0)
    if (!Exit.isFailure(exit) || exit.cause._tag !== "Fail") return assert.fail(`not a failure: ${String(exit)}`)
    const error = exit.cause.error
    return error._op === "InvalidData" ? { path: error.path, message: error.message } : { path: [], message: "" }
  })

describe("ttl", () => {
  it.effect("a bare number does not type-check, and fails at run time naming the field and the unit", () =>
    Effect.gen(function*() {
      // @ts-expect-error a bare number would be milliseconds for Effect and seconds for Bringg: give the unit
      const options: BringgClient.Options = { ...credentials, region: "us2", ttl: 1800 }
      const error = yield* failure(options)
      assert.deepStrictEqual(error.path, ["ttl"])
      assert.include(error.message, "not a bare number")
      assert.include(error.message, "seconds")
      assert.include(error.message, "Duration.seconds(1800)")
    }))

  it.scoped("a duration with its unit is sent as whole seconds", () =>
    Effect.gen(function*() {
      for (const ttl of ["30 minutes", Duration.seconds(1800)] as const) {
        const bringg = yield* fakeBringg
        const app = yield* BringgClient.make({ ...credentials, region: "us2", encoding: "json", ttl }).pipe(
          Effect.provide(bringg.layer)
        )
        yield* app.manager.get
        assert.strictEqual(bringg.seen[0]?.url, "https://us2-admin-api.bringg.com/oauth/token")
        assert.strictEqual(JSON.parse(bringg.seen[0]?.body ?? "{}").ttl, "1800")
      }
    }))
})

describe("request URLs", () => {
  it.scoped("an absolute URL is sent as it is: with the token to the account's host, without it elsewhere", () =>
    Effect.gen(function*() {
      const bringg = yield* fakeBringg
      const { client } = yield* BringgClient.make({ ...credentials, region: "us2" }).pipe(Effect.provide(bringg.layer))
      yield* client.post("/services/a")
      yield* client.post("https://us2-admin-api.bringg.com/services/x")
      yield* client.get("https://files.example.com/export.csv")
      assert.deepStrictEqual(bringg.seen.map(({ authorization, url }) => ({ url, authorization })), [
        { url: "https://us2-admin-api.bringg.com/oauth/token", authorization: undefined },
        { url: "https://us2-admin-api.bringg.com/services/a", authorization: "Bearer fake-access-token" },
        { url: "https://us2-admin-api.bringg.com/services/x", authorization: "Bearer fake-access-token" },
        { url: "https://files.example.com/export.csv", authorization: undefined }
      ])
    }))
})

describe("the environment", () => {
  it.effect("an empty BRINGG_CLIENT_SECRET says it is empty, without the value", () =>
    Effect.gen(function*() {
      for (const secret of ["", "  "]) {
        const error = yield* Effect.flip(BringgClient.config).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(
            new Map([["BRINGG_CLIENT_ID", OMS.id], ["BRINGG_CLIENT_SECRET", secret], ["BRINGG_REGION", "us2"]])
          ))
        )
        assert.strictEqual(error._op, "InvalidData")
        assert.deepStrictEqual(error._op === "InvalidData" && error.path, ["BRINGG_CLIENT_SECRET"])
        assert.strictEqual(error.message, "BRINGG_CLIENT_SECRET is empty")
        assert.notInclude(String(error), "<redacted>")
      }
    }))
})

describe("untyped JavaScript input", () => {
  const cases: ReadonlyArray<readonly [string, unknown, ReadonlyArray<string>]> = [
    ["no options", undefined, []],
    ["a string", "us2", []],
    ["a numeric region", { ...credentials, region: 2 }, ["region"]],
    ["a numeric baseUrl", { ...credentials, baseUrl: 42 }, ["baseUrl"]],
    ["an object ttl", { ...credentials, region: "us2", ttl: {} }, ["ttl"]],
    ["a numeric clientId", { ...credentials, region: "us2", clientId: 42 }, ["clientId"]],
    ["a string secret", { ...credentials, region: "us2", clientSecret: "plain" }, ["clientSecret"]],
    ["a numeric name", { ...credentials, region: "us2", name: 7 }, ["name"]],
    ["a policy that is a number", { ...credentials, region: "us2", policy: 5 }, ["policy"]]
  ]
  for (const [label, options, path] of cases) {
    it.effect(`${label}: a ConfigError at ${path.join(".") || "the root"}, not a defect`, () =>
      Effect.map(failure(options), (error) => assert.deepStrictEqual(error.path, path)))
  }
})

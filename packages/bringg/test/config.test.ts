/**
 * `layerConfig` from the environment and the option checks of `make`/`layer`: every mistake fails the build with a
 * `ConfigError` naming the variable or field, and no rendering of it shows the secret.
 */
import { Emulator } from "@effect-oauth/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Util from "node:util"
import * as BringgClient from "../src/BringgClient.js"
import { callService, OMS } from "./utils.js"

const fromEnv = (env: Readonly<Record<string, string>>) => ConfigProvider.fromMap(new Map(Object.entries(env)))

const credentials = { BRINGG_CLIENT_ID: OMS.id, BRINGG_CLIENT_SECRET: OMS.secret }

/** Every way a ConfigError gets printed. */
const renderings = (error: ConfigError.ConfigError) => [
  String(error),
  JSON.stringify(error),
  Util.inspect(error, { depth: Infinity }),
  Cause.pretty(Cause.fail(error))
]

/** A stand-in for Bringg's servers that records every request: a token at `/oauth/token`, success elsewhere. */
const fakeBringg = Effect.sync(() => {
  const seen: Array<{ readonly method: string; readonly url: string; readonly authorization: string | undefined }> = []
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      seen.push({ method: request.method, url: request.url, authorization: request.headers.authorization })
      const body = new URL(request.url).pathname === "/oauth/token"
        ? { access_token: "fake-access-token", token_type: "Bearer", expires_in: 1800, created_at: 0 }
        : { success: true }
      return HttpClientResponse.fromWeb(
        request,
        new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } })
      )
    })
  )
  return { seen, layer: Layer.succeed(HttpClient.HttpClient, client) }
})

describe("layerConfig", () => {
  it.scoped("BRINGG_REGION: the token and the API calls go to the region's host", () =>
    Effect.gen(function*() {
      const bringg = yield* fakeBringg
      const reply = yield* Effect.flatMap(BringgClient.BringgClient, (client) => callService(client, "get_task")).pipe(
        Effect.provide(BringgClient.layerConfig().pipe(Layer.provide(bringg.layer))),
        Effect.withConfigProvider(fromEnv({ ...credentials, BRINGG_REGION: "eu2" }))
      )
      assert.deepStrictEqual(reply, { status: 200, body: { success: true } })
      assert.deepStrictEqual(bringg.seen, [
        { method: "POST", url: "https://eu2-admin-api.bringg.com/oauth/token", authorization: undefined },
        {
          method: "POST",
          url: "https://eu2-admin-api.bringg.com/services/get_task",
          authorization: "Bearer fake-access-token"
        }
      ])
    }))

  it.scoped("BRINGG_BASE_URL and BRINGG_TTL (with Layer.setConfigProvider)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [OMS] })
      const env = fromEnv({ ...credentials, BRINGG_BASE_URL: `${emulator.baseUrl}/`, BRINGG_TTL: "600" })
      const reply = yield* Effect.flatMap(BringgClient.BringgClient, (client) => callService(client, "get_task")).pipe(
        Effect.provide(BringgClient.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(env))))
      )
      assert.strictEqual(reply.body.client_id, OMS.id)
      const [request] = yield* emulator.requests
      assert.strictEqual(request?.ttl, "600")
      assert.strictEqual(request?.encoding, "multipart")
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("a custom Config: several apps from nested variables", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [OMS] })
      const env = ConfigProvider.fromMap(
        new Map([
          ["OMS_BRINGG_CLIENT_ID", OMS.id],
          ["OMS_BRINGG_CLIENT_SECRET", OMS.secret],
          ["OMS_BRINGG_BASE_URL", emulator.baseUrl]
        ]),
        { pathDelim: "_" }
      )
      const reply = yield* Effect.flatMap(BringgClient.BringgClient, (client) => callService(client, "get_task")).pipe(
        Effect.provide(BringgClient.layerConfig(Config.nested(BringgClient.config, "OMS"))),
        Effect.withConfigProvider(env)
      )
      assert.strictEqual(reply.body.client_id, OMS.id)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  const failures: ReadonlyArray<{
    readonly label: string
    readonly env: Readonly<Record<string, string>>
    readonly names: ReadonlyArray<string>
  }> = [
    {
      label: "missing client id",
      env: { BRINGG_CLIENT_SECRET: OMS.secret, BRINGG_REGION: "us2" },
      names: ["BRINGG_CLIENT_ID"]
    },
    {
      label: "empty client id",
      env: { BRINGG_CLIENT_ID: "", BRINGG_CLIENT_SECRET: OMS.secret, BRINGG_REGION: "us2" },
      names: ["BRINGG_CLIENT_ID"]
    },
    {
      label: "missing secret",
      env: { BRINGG_CLIENT_ID: OMS.id, BRINGG_REGION: "us2" },
      names: ["BRINGG_CLIENT_SECRET"]
    },
    {
      label: "empty secret",
      env: { BRINGG_CLIENT_ID: OMS.id, BRINGG_CLIENT_SECRET: "", BRINGG_REGION: "us2" },
      names: ["BRINGG_CLIENT_SECRET"]
    },
    { label: "neither region nor base URL", env: credentials, names: ["BRINGG_REGION", "BRINGG_BASE_URL"] },
    {
      label: "both region and base URL",
      env: { ...credentials, BRINGG_REGION: "us2", BRINGG_BASE_URL: "https://sandbox.example.com" },
      names: ["BRINGG_REGION", "BRINGG_BASE_URL"]
    },
    {
      label: "unknown region",
      env: { ...credentials, BRINGG_REGION: "eu9" },
      names: ["BRINGG_REGION", "us2", "us3", "eu2", "eu3", "app"]
    },
    {
      label: "TTL not a number",
      env: { ...credentials, BRINGG_REGION: "us2", BRINGG_TTL: "1h" },
      names: ["BRINGG_TTL"]
    },
    { label: "TTL zero", env: { ...credentials, BRINGG_REGION: "us2", BRINGG_TTL: "0" }, names: ["BRINGG_TTL"] },
    { label: "TTL negative", env: { ...credentials, BRINGG_REGION: "us2", BRINGG_TTL: "-60" }, names: ["BRINGG_TTL"] },
    {
      label: "TTL fractional",
      env: { ...credentials, BRINGG_REGION: "us2", BRINGG_TTL: "1.5" },
      names: ["BRINGG_TTL"]
    },
    {
      label: "base URL not a URL",
      env: { ...credentials, BRINGG_BASE_URL: "sandbox.example.com" },
      names: ["BRINGG_BASE_URL"]
    },
    {
      label: "base URL over plain http on a public host",
      env: { ...credentials, BRINGG_BASE_URL: "http://sandbox.example.com" },
      names: ["BRINGG_BASE_URL", "https"]
    }
  ]

  for (const failure of failures) {
    it.scoped(`${failure.label}: the build fails naming ${failure.names[0]}, never showing the secret`, () =>
      Effect.gen(function*() {
        const bringg = yield* fakeBringg
        const error = yield* Effect.flip(
          Layer.build(BringgClient.layerConfig().pipe(Layer.provide(bringg.layer)))
        ).pipe(Effect.withConfigProvider(fromEnv(failure.env)))
        assert.isTrue(ConfigError.isConfigError(error))
        for (const rendering of renderings(error)) {
          for (const name of failure.names) assert.include(rendering, name)
          assert.notInclude(rendering, OMS.secret)
          assert.notInclude(rendering, encodeURIComponent(OMS.secret))
        }
        assert.strictEqual(bringg.seen.length, 0)
      }))
  }
})

describe("make and layer with invalid options", () => {
  const base = { clientId: OMS.id, clientSecret: Redacted.make(OMS.secret) }
  const cases: ReadonlyArray<{
    readonly label: string
    readonly options: BringgClient.Options
    readonly path: ReadonlyArray<string>
    readonly message: RegExp
  }> = [
    {
      label: "both region and baseUrl",
      options: { ...base, region: "us2", baseUrl: "https://sandbox.example.com" } as unknown as BringgClient.Options,
      path: ["baseUrl"],
      message: /either region or baseUrl, not both/
    },
    {
      label: "neither region nor baseUrl",
      options: base as unknown as BringgClient.Options,
      path: ["region"],
      message: /region \(one of us2, us3, eu2, eu3, app\) or baseUrl/
    },
    {
      label: "an unknown region",
      options: { ...base, region: "eu9" } as unknown as BringgClient.Options,
      path: ["region"],
      message: /one of us2, us3, eu2, eu3, app/
    },
    {
      label: "a baseUrl that is not a URL",
      options: { ...base, baseUrl: "sandbox.example.com" },
      path: ["baseUrl"],
      message: /^baseUrl must be an absolute URL/
    },
    {
      label: "a baseUrl over plain http on a public host",
      options: { ...base, baseUrl: "http://sandbox.example.com" },
      path: ["baseUrl"],
      message: /^baseUrl must use https/
    },
    {
      label: "a ttl of a fraction of a second",
      options: { ...base, region: "us2", ttl: "1500 millis" },
      path: ["ttl"],
      message: /whole number of seconds/
    },
    {
      label: "a ttl of zero",
      options: { ...base, region: "us2", ttl: "0 seconds" },
      path: ["ttl"],
      message: /positive/
    },
    {
      label: "an infinite ttl",
      options: { ...base, region: "us2", ttl: "Infinity" as never },
      path: ["ttl"],
      message: /finite/
    },
    {
      label: "an unknown encoding",
      options: { ...base, region: "us2", encoding: "xml" as never },
      path: ["encoding"],
      message: /form, multipart, json/
    },
    {
      label: "an empty clientId",
      options: { ...base, region: "us2", clientId: "" },
      path: ["clientId"],
      message: /empty/
    },
    {
      label: "an invalid refresh policy",
      options: { ...base, region: "us2", policy: { refreshAt: 2 } },
      path: ["policy", "refreshAt"],
      message: /refreshAt/
    }
  ]

  for (const { label, message, options, path } of cases) {
    it.scoped(`${label}: InvalidData at ${path.join(".")}`, () =>
      Effect.gen(function*() {
        const bringg = yield* fakeBringg
        const error = yield* Effect.flip(Layer.build(BringgClient.layer(options).pipe(Layer.provide(bringg.layer))))
        assert.strictEqual(error._op, "InvalidData")
        assert.deepStrictEqual(error._op === "InvalidData" ? error.path : [], path)
        assert.match(error._op === "InvalidData" ? error.message : "", message)
        for (const rendering of renderings(error)) assert.notInclude(rendering, OMS.secret)
        assert.strictEqual(bringg.seen.length, 0)
      }))
  }
})

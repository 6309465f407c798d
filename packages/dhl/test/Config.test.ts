/**
 * `DhlEcommerceClient.layerConfig`: the environment variables, what each environment binds to, and build failures
 * that name the variable and never show the secret.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Util from "node:util"
import * as DhlEcommerceClient from "../src/DhlEcommerceClient.js"
import { SECRET, setup } from "./utils/setup.js"

const env = (variables: Readonly<Record<string, string>>) => ConfigProvider.fromMap(new Map(Object.entries(variables)))

const valid = {
  DHL_ECOMMERCE_CLIENT_ID: "oms",
  DHL_ECOMMERCE_CLIENT_SECRET: SECRET,
  DHL_ECOMMERCE_ENVIRONMENT: "sandbox"
}

// An HttpClient that answers every token request with a token and every other request with `{}`, recording
// `METHOD url`: no network, and the URLs show where the layer sends what.
const recording = Effect.sync(() => {
  const seen: Array<string> = []
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      seen.push(`${request.method} ${request.url}`)
      const body = request.url.endsWith("/auth/v4/accesstoken")
        ? { access_token: "token", token_type: "Bearer", expires_in: 3600 }
        : {}
      return HttpClientResponse.fromWeb(request, new Response(JSON.stringify(body), { status: 200 }))
    })
  )
  return { seen, layer: Layer.succeed(HttpClient.HttpClient, client) }
})

const callTracking = Effect.flatMap(DhlEcommerceClient.DhlEcommerceClient, (dhl) => dhl.get("/tracking/v4/package"))

describe("DhlEcommerceClient.layerConfig", () => {
  for (
    const [environment, host] of [
      ["sandbox", "https://api-sandbox.dhlecs.com"],
      ["production", "https://api.dhlecs.com"]
    ] as const
  ) {
    it.effect(`${environment}: the token and the API calls go to ${host}`, () =>
      Effect.gen(function*() {
        const { layer, seen } = yield* recording
        yield* callTracking.pipe(
          Effect.provide(DhlEcommerceClient.layerConfig().pipe(Layer.provide(layer))),
          Effect.withConfigProvider(env({ ...valid, DHL_ECOMMERCE_ENVIRONMENT: environment }))
        )
        assert.deepStrictEqual(seen, [`POST ${host}/auth/v4/accesstoken`, `GET ${host}/tracking/v4/package`])
      }))
  }

  it.scoped("DHL_ECOMMERCE_BASE_URL replaces the environment's host (here: the emulator)", () =>
    Effect.gen(function*() {
      const { emulator } = yield* setup()
      const layer = DhlEcommerceClient.layerConfig().pipe(
        Layer.provide(Layer.setConfigProvider(env({ ...valid, DHL_ECOMMERCE_BASE_URL: `${emulator.baseUrl}/` })))
      )
      const response = yield* Effect.provide(callTracking, layer)
      assert.deepInclude(yield* response.json, { success: true, client_id: "oms" })
      assert.deepStrictEqual((yield* emulator.requests).map((request) => request.path), ["/auth/v4/accesstoken"])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.effect("a custom Config: Config.nested reads prefixed variables, one app each", () =>
    Effect.gen(function*() {
      const { layer, seen } = yield* recording
      const variables = Object.fromEntries(Object.entries(valid).map(([name, value]) => [`WMS_${name}`, value]))
      yield* callTracking.pipe(
        Effect.provide(
          DhlEcommerceClient.layerConfig(Config.nested(DhlEcommerceClient.config, "WMS")).pipe(Layer.provide(layer))
        ),
        // The environment's own convention: names joined with underscores.
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables)), { pathDelim: "_" }))
      )
      assert.strictEqual(seen.length, 2)
    }))

  const failures: ReadonlyArray<{
    readonly name: string
    readonly variables: Readonly<Record<string, string>>
    readonly mentions: ReadonlyArray<string>
  }> = [
    {
      name: "missing client id",
      variables: { DHL_ECOMMERCE_CLIENT_SECRET: SECRET, DHL_ECOMMERCE_ENVIRONMENT: "sandbox" },
      mentions: ["DHL_ECOMMERCE_CLIENT_ID"]
    },
    {
      name: "missing client secret",
      variables: { DHL_ECOMMERCE_CLIENT_ID: "oms", DHL_ECOMMERCE_ENVIRONMENT: "sandbox" },
      mentions: ["DHL_ECOMMERCE_CLIENT_SECRET"]
    },
    {
      name: "empty client secret",
      variables: { ...valid, DHL_ECOMMERCE_CLIENT_SECRET: "" },
      mentions: ["DHL_ECOMMERCE_CLIENT_SECRET"]
    },
    {
      name: "missing environment",
      variables: { DHL_ECOMMERCE_CLIENT_ID: "oms", DHL_ECOMMERCE_CLIENT_SECRET: SECRET },
      mentions: ["DHL_ECOMMERCE_ENVIRONMENT"]
    },
    {
      name: "unknown environment",
      variables: { ...valid, DHL_ECOMMERCE_ENVIRONMENT: "staging" },
      mentions: ["DHL_ECOMMERCE_ENVIRONMENT", "sandbox, production", "staging"]
    },
    {
      name: "base URL that is not a URL",
      variables: { ...valid, DHL_ECOMMERCE_BASE_URL: "api.dhlecs.com" },
      mentions: ["DHL_ECOMMERCE_BASE_URL"]
    },
    {
      name: "base URL over plain http off loopback",
      variables: { ...valid, DHL_ECOMMERCE_BASE_URL: "http://api.dhlecs.com" },
      mentions: ["DHL_ECOMMERCE_BASE_URL", "must use https"]
    }
  ]
  for (const { mentions, name, variables } of failures) {
    it.scoped(`${name}: the build fails naming the variable, never showing the secret`, () =>
      Effect.gen(function*() {
        const error = yield* Layer.build(DhlEcommerceClient.layerConfig()).pipe(
          Effect.flip,
          Effect.withConfigProvider(env(variables))
        )
        const renderings = [
          String(error),
          JSON.stringify(error),
          Util.inspect(error, { depth: Infinity }),
          Cause.pretty(Cause.fail(error))
        ]
        for (const rendering of renderings) assert.notInclude(rendering, SECRET)
        for (const mention of mentions) assert.include(String(error), mention)
        assert.include(Cause.pretty(Cause.fail(error)), mentions[0]!)
      }).pipe(Effect.provide(FetchHttpClient.layer)))
  }
})

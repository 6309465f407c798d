/**
 * Where a DHL app lives (an environment, a base URL or both) and options a user can get wrong, from the environment
 * or from untyped JavaScript: each fails with a `ConfigError` naming the field, in the error channel.
 */
import { Recorder } from "@effect-oauth/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as DhlEcommerceClient from "../src/DhlEcommerceClient.js"
import { SECRET, setup } from "./utils/setup.js"

const env = (variables: Readonly<Record<string, string>>) => ConfigProvider.fromMap(new Map(Object.entries(variables)))

const credentials = { DHL_ECOMMERCE_CLIENT_ID: "oms", DHL_ECOMMERCE_CLIENT_SECRET: SECRET }

describe("DHL_ECOMMERCE_BASE_URL alone", () => {
  it.scoped("builds the client; the manager is named after the host", () =>
    Effect.gen(function*() {
      const { emulator } = yield* setup()
      const options = yield* DhlEcommerceClient.config.pipe(
        Effect.withConfigProvider(env({ ...credentials, DHL_ECOMMERCE_BASE_URL: emulator.baseUrl }))
      )
      assert.isUndefined(options.environment)
      const recorder = yield* Recorder.make
      const { client } = yield* DhlEcommerceClient.make(options)
      const response = yield* recorder.record(client.get("/tracking/v4/package"))
      assert.strictEqual(response.status, 200)
      const host = new URL(emulator.baseUrl).host
      const fetch = recorder.spans.find((span) => span.name === "TokenManager.fetch")
      assert.strictEqual(fetch?.attributes.get("oauth.manager"), `dhl-ecommerce-${host}`)
      assert.strictEqual((yield* emulator.stats).tokenRequests, 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.effect("neither an environment nor a base URL: the error names both variables", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(DhlEcommerceClient.config).pipe(Effect.withConfigProvider(env(credentials)))
      assert.strictEqual(error._op, "MissingData")
      assert.include(String(error), "DHL_ECOMMERCE_ENVIRONMENT")
      assert.include(String(error), "DHL_ECOMMERCE_BASE_URL")
    }))

  it.effect("an empty DHL_ECOMMERCE_CLIENT_SECRET says it is empty, without the value", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(DhlEcommerceClient.config).pipe(
        Effect.withConfigProvider(
          env({ ...credentials, DHL_ECOMMERCE_CLIENT_SECRET: "", DHL_ECOMMERCE_ENVIRONMENT: "sandbox" })
        )
      )
      assert.strictEqual(error.message, "DHL_ECOMMERCE_CLIENT_SECRET is empty")
      assert.notInclude(String(error), "<redacted>")
    }))
})

describe("untyped JavaScript input", () => {
  const app = { clientId: "oms", clientSecret: Redacted.make(SECRET) }
  const cases: ReadonlyArray<readonly [string, unknown, ReadonlyArray<string>]> = [
    ["no options", undefined, []],
    ["neither environment nor baseUrl", app, ["environment"]],
    ["an unknown environment", { ...app, environment: "staging" }, ["environment"]],
    ["a numeric baseUrl", { ...app, baseUrl: 42 }, ["baseUrl"]],
    ["a numeric clientId", { ...app, environment: "sandbox", clientId: 42 }, ["clientId"]],
    ["a policy that is a string", { ...app, environment: "sandbox", policy: "fast" }, ["policy"]],
    ["a numeric name", { ...app, environment: "sandbox", name: 1 }, ["name"]]
  ]
  for (const [label, options, path] of cases) {
    it.effect(`${label}: a ConfigError at ${path.join(".") || "the root"}, not a defect`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Effect.scoped(DhlEcommerceClient.make(options as DhlEcommerceClient.Options)))
        if (!Exit.isFailure(exit) || exit.cause._tag !== "Fail") return assert.fail(`not a failure: ${String(exit)}`)
        const error = exit.cause.error
        assert.strictEqual(error._op, "InvalidData")
        assert.deepStrictEqual(error._op === "InvalidData" && error.path, [...path])
      }).pipe(Effect.provide(FetchHttpClient.layer)))
  }
})

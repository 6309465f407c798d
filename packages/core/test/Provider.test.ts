import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as AuthorizedClient from "../src/AuthorizedClient.js"
import * as Provider from "../src/Provider.js"
import * as TokenManager from "../src/TokenManager.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"

// A token endpoint over HTTP: HTTP Basic credentials in, `<clientId>-token-<n>` out (n counted per client).
const tokenServer = Effect.suspend(() => {
  const issued = new Map<string, number>()
  return HttpTestServer.make((request) => {
    const basic = (request.headers.authorization ?? "").replace(/^Basic /, "")
    const clientId = decodeURIComponent(Buffer.from(basic, "base64").toString("utf8").split(":")[0]!)
    const n = (issued.get(clientId) ?? 0) + 1
    issued.set(clientId, n)
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ access_token: `${clientId}-token-${n}`, token_type: "Bearer", expires_in: 3600 })
    }
  })
})

// An API accepting every token except those in `revoked`.
const apiServer = (revoked: Set<string>) =>
  HttpTestServer.make((request) =>
    revoked.has(request.headers.authorization ?? "") ? { status: 401, body: "" } : { status: 200, body: "ok" }
  )

const at = (server: HttpTestServer.HttpTestServer, path: string) => server.origin + path

const acme = (token: HttpTestServer.HttpTestServer, api: HttpTestServer.HttpTestServer): Provider.Provider => ({
  name: "acme",
  tokenUrl: at(token, "/oauth/token"),
  apiBaseUrl: at(api, "/v1"),
  authMethod: "client_secret_basic",
  encoding: "form",
  extraParams: { ttl: "3600", region: "us" }
})

const credentials = (clientId: string): Provider.Credentials => ({
  clientId,
  clientSecret: Redacted.make(`${clientId}-secret`)
})

describe("Provider", () => {
  it.scoped("make twice: two apps with independent tokens, managers and clients", () =>
    Effect.gen(function*() {
      const revoked = new Set<string>()
      const token = yield* tokenServer
      const api = yield* apiServer(revoked)
      const oms = yield* Provider.make(acme(token, api), credentials("oms"), { name: "acme-oms" })
      const wms = yield* Provider.make(acme(token, api), credentials("wms"), { name: "acme-wms" })
      yield* oms.client.get("/orders")
      yield* wms.client.get("/stock")
      yield* oms.client.get("/orders/2")
      assert.strictEqual((yield* token.requests).length, 2)
      // The API rejects the OMS token: only the OMS app fetches a new one.
      revoked.add("Bearer oms-token-1")
      yield* oms.client.get("/orders/3")
      yield* wms.client.get("/stock/2")
      const received = yield* api.requests
      assert.deepStrictEqual(received.map((request) => [request.url, request.headers.authorization]), [
        ["/v1/orders", "Bearer oms-token-1"],
        ["/v1/stock", "Bearer wms-token-1"],
        ["/v1/orders/2", "Bearer oms-token-1"],
        ["/v1/orders/3", "Bearer oms-token-1"],
        ["/v1/orders/3", "Bearer oms-token-2"],
        ["/v1/stock/2", "Bearer wms-token-1"]
      ])
      const tokenRequests = yield* token.requests
      assert.strictEqual(tokenRequests.length, 3)
      // The provider's extra params go with every token request.
      assert.include(tokenRequests[0]!.body, "ttl=3600")
      assert.include(tokenRequests[0]!.body, "region=us")
      assert.strictEqual(Redacted.value((yield* wms.manager.get).value), "wms-token-1")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("credentials' extraParams win over the provider's", () =>
    Effect.gen(function*() {
      const token = yield* tokenServer
      const api = yield* apiServer(new Set())
      const app = yield* Provider.make(acme(token, api), { ...credentials("oms"), extraParams: { ttl: "60" } })
      yield* app.manager.get
      const body = new URLSearchParams((yield* token.requests)[0]!.body)
      assert.deepStrictEqual(body.getAll("ttl"), ["60"])
      assert.deepStrictEqual(body.getAll("region"), ["us"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("layer provides the AuthorizedClient and the TokenManager", () =>
    Effect.gen(function*() {
      const token = yield* tokenServer
      const api = yield* apiServer(new Set())
      const text = yield* Effect.gen(function*() {
        const client = yield* AuthorizedClient.AuthorizedClient
        const manager = yield* TokenManager.TokenManager
        const response = yield* client.get("/services/orders")
        assert.strictEqual(Redacted.value((yield* manager.get).value), "oms-token-1")
        return yield* response.text
      }).pipe(Effect.provide(Provider.layer(acme(token, api), credentials("oms"))))
      assert.strictEqual(text, "ok")
      assert.deepStrictEqual((yield* api.requests).map((request) => request.headers.authorization), [
        "Bearer oms-token-1"
      ])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("layer fails with a ConfigError naming the bad option", () =>
    Effect.gen(function*() {
      const token = yield* tokenServer
      const api = yield* apiServer(new Set())
      const provider = acme(token, api)
      const pathOf = (layer: ReturnType<typeof Provider.layer>) =>
        Effect.map(
          Effect.flip(Effect.provide(AuthorizedClient.AuthorizedClient, layer)),
          (error) => error._op === "InvalidData" ? error.path : error._op
        )
      assert.deepStrictEqual(
        yield* pathOf(Provider.layer({ ...provider, apiBaseUrl: "http://api.example.com" }, credentials("oms"))),
        ["apiBaseUrl"]
      )
      assert.deepStrictEqual(
        yield* pathOf(Provider.layer({ ...provider, origins: ["ftp://files.example.com"] }, credentials("oms"))),
        ["origins", "0"]
      )
      assert.deepStrictEqual(
        yield* pathOf(Provider.layer(provider, credentials("oms"), { policy: { refreshAt: 2 } })),
        ["policy", "refreshAt"]
      )
      assert.deepStrictEqual(yield* pathOf(Provider.layer(provider, credentials(""))), ["clientId"])
      assert.strictEqual((yield* token.requests).length, 0)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

describe("Provider config helpers", () => {
  const provide = <A>(config: Config.Config<A>, env: Record<string, string>) =>
    Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env))))
  const read = <A>(config: Config.Config<A>, env: Record<string, string>) => Effect.either(provide(config, env))
  const readError = <A>(config: Config.Config<A>, env: Record<string, string>) => Effect.flip(provide(config, env))

  it.effect("secureUrlConfig accepts https and loopback http, and names the variable otherwise", () =>
    Effect.gen(function*() {
      const ok = yield* read(Provider.secureUrlConfig("API_URL"), { API_URL: "https://api.example.com/v1" })
      assert.strictEqual(Either.getOrThrow(ok).href, "https://api.example.com/v1")
      const loopback = yield* read(Provider.secureUrlConfig("API_URL"), { API_URL: "http://127.0.0.1:8080" })
      assert.isTrue(Either.isRight(loopback))
      for (const value of ["http://api.example.com", "not a url", "https://user:pw@api.example.com"]) {
        const error = yield* readError(Provider.secureUrlConfig("API_URL"), { API_URL: value })
        assert.strictEqual(error._op, "InvalidData")
        assert.deepStrictEqual(error._op === "InvalidData" && error.path, ["API_URL"])
        assert.match(String(error), /API_URL must/)
        assert.notInclude(String(error), "pw@")
      }
      const missing = yield* readError(Provider.secureUrlConfig("API_URL"), {})
      assert.strictEqual(missing._op, "MissingData")
    }))

  it.effect("credentialsConfig names the missing variable and never shows the secret", () =>
    Effect.gen(function*() {
      const ok = yield* read(Provider.credentialsConfig("APP"), { APP_CLIENT_ID: "id", APP_CLIENT_SECRET: "hunter2" })
      assert.strictEqual(Redacted.value(Either.getOrThrow(ok).clientSecret), "hunter2")
      assert.notInclude(String(Either.getOrThrow(ok).clientSecret), "hunter2")
      const noId = yield* readError(Provider.credentialsConfig("APP"), { APP_CLIENT_SECRET: "hunter2" })
      assert.include(String(noId), "APP_CLIENT_ID")
      assert.notInclude(String(noId), "hunter2")
      const emptySecret = yield* readError(Provider.credentialsConfig("APP"), {
        APP_CLIENT_ID: "id",
        APP_CLIENT_SECRET: ""
      })
      assert.include(String(emptySecret), "APP_CLIENT_SECRET")
      for (const secret of ["", "   "]) {
        const error = yield* readError(Provider.credentialsConfig("APP"), {
          APP_CLIENT_ID: "id",
          APP_CLIENT_SECRET: secret
        })
        assert.strictEqual(error._op, "InvalidData")
        assert.deepStrictEqual(error._op === "InvalidData" && error.path, ["APP_CLIENT_SECRET"])
        assert.strictEqual(error.message, "APP_CLIENT_SECRET is empty")
        assert.notInclude(String(error), "<redacted>")
      }
      const emptyId = yield* readError(Provider.credentialsConfig("APP"), {
        APP_CLIENT_ID: "",
        APP_CLIENT_SECRET: "s3"
      })
      assert.strictEqual(emptyId.message, "APP_CLIENT_ID is empty")
      // A secret refused for any reason never shows its value.
      const nested = yield* readError(Config.nested(Provider.credentialsConfig("APP"), "OMS"), {
        "OMS.APP_CLIENT_SECRET": "hunter2"
      })
      assert.notInclude(String(nested), "hunter2")
    }))
})

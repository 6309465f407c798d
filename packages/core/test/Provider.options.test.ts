import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Provider from "../src/Provider.js"
import * as TokenStore from "../src/TokenStore.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"

const tokenServer = HttpTestServer.make(() =>
  HttpTestServer.json(200, { access_token: "token-1", token_type: "Bearer", expires_in: 3600 })
)

const ok: HttpTestServer.Handler = () => ({ status: 200, body: "ok" })

const provider = (token: HttpTestServer.HttpTestServer, api: HttpTestServer.HttpTestServer): Provider.Provider => ({
  name: "acme",
  tokenUrl: `${token.origin}/oauth/token`,
  apiBaseUrl: `${api.origin}/v1/`,
  authMethod: "client_secret_post",
  encoding: "form"
})

const credentials: Provider.Credentials = { clientId: "oms", clientSecret: Redacted.make("oms-secret") }

describe("Provider.make", () => {
  it.scoped("relative URLs go under apiBaseUrl; an absolute URL is sent as it is, with the token only to a listed origin", () =>
    Effect.gen(function*() {
      const token = yield* tokenServer
      const api = yield* HttpTestServer.make(ok)
      const foreign = yield* HttpTestServer.make(ok)
      const { client } = yield* Provider.make(provider(token, api), credentials)
      yield* client.get("/orders")
      yield* client.get("orders/2")
      yield* client.get(`${api.origin}/services/x?page=2`)
      yield* client.get(`${foreign.origin}/elsewhere`)
      const received = (yield* api.requests).map((request) => [request.url, request.headers.authorization])
      assert.deepStrictEqual(received, [
        ["/v1/orders", "Bearer token-1"],
        ["/v1/orders/2", "Bearer token-1"],
        ["/services/x?page=2", "Bearer token-1"]
      ])
      const elsewhere = (yield* foreign.requests).map((request) => [request.url, request.headers.authorization])
      assert.deepStrictEqual(elsewhere, [["/elsewhere", undefined]])
      assert.strictEqual((yield* token.requests).length, 1)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("odd options from untyped JavaScript fail with a ConfigError naming the field, never a defect", () =>
    Effect.gen(function*() {
      const token = yield* tokenServer
      const api = yield* HttpTestServer.make(ok)
      const good = provider(token, api)
      const attempt = (p: unknown, c: unknown, o?: unknown) =>
        Effect.scoped(
          Effect.exit(Provider.make(p as Provider.Provider, c as Provider.Credentials, o as Provider.Options))
        )
      const cases: ReadonlyArray<readonly [string, unknown, unknown, unknown, ReadonlyArray<string>]> = [
        ["provider undefined", undefined, credentials, undefined, []],
        ["credentials undefined", good, undefined, undefined, []],
        ["credentials a string", good, "oms:secret", undefined, []],
        ["options a number", good, credentials, 5, ["options"]],
        ["apiBaseUrl a number", { ...good, apiBaseUrl: 42 }, credentials, undefined, ["apiBaseUrl"]],
        ["apiBaseUrl insecure", { ...good, apiBaseUrl: "http://api.example.com" }, credentials, undefined, [
          "apiBaseUrl"
        ]],
        ["apiBaseUrl with a query", { ...good, apiBaseUrl: `${api.origin}/v1?tenant=1` }, credentials, undefined, [
          "apiBaseUrl"
        ]],
        ["apiBaseUrl with a fragment", { ...good, apiBaseUrl: `${api.origin}/v1#frag` }, credentials, undefined, [
          "apiBaseUrl"
        ]],
        ["origins a string", { ...good, origins: api.origin }, credentials, undefined, ["origins"]],
        ["origins [42]", { ...good, origins: [42] }, credentials, undefined, ["origins", "0"]],
        ["isTokenRejected a status", { ...good, isTokenRejected: 401 }, credentials, undefined, ["isTokenRejected"]],
        ["policy a number", good, credentials, { policy: 5 }, ["policy"]],
        ["policy out of range", good, credentials, { policy: { jitter: 2 } }, ["policy", "jitter"]],
        ["extraParams a string", good, { ...credentials, extraParams: "ttl=1" }, undefined, ["extraParams"]],
        ["tokenUrl a number", { ...good, tokenUrl: 42 }, credentials, undefined, ["tokenUrl"]],
        ["clientId a number", good, { ...credentials, clientId: 42 }, undefined, ["clientId"]],
        ["name a number", good, credentials, { name: 42 }, ["name"]]
      ]
      for (const [label, p, c, o, path] of cases) {
        const exit = yield* attempt(p, c, o)
        assert.isTrue(Exit.isFailure(exit), label)
        if (!Exit.isFailure(exit) || exit.cause._tag !== "Fail") return assert.fail(`${label}: ${String(exit)}`)
        const error = exit.cause.error
        assert.strictEqual(error._op, "InvalidData", label)
        assert.deepStrictEqual(error._op === "InvalidData" && error.path, [...path], label)
      }
      assert.strictEqual((yield* token.requests).length, 0)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("a TokenStore in context is used: two apps of one client share one token request", () =>
    Effect.gen(function*() {
      const token = yield* tokenServer
      const api = yield* HttpTestServer.make(ok)
      const apps = yield* Effect.all([
        Provider.make(provider(token, api), credentials, { name: "first" }),
        Provider.make(provider(token, api), credentials, { name: "second" })
      ])
      yield* Effect.all(apps.map((app) => app.client.get("/orders")), { concurrency: "unbounded" })
      assert.strictEqual((yield* token.requests).length, 1)
      assert.strictEqual((yield* api.requests).length, 2)
    }).pipe(Effect.provide(TokenStore.layerMemory), Effect.provide(NodeHttpClient.layerUndici)))
})

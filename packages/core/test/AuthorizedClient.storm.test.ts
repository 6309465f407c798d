/**
 * A 401 storm against a token endpoint that fails fast: every API request sees its token rejected at once, and the
 * refetch fails at once. The callers that saw the same rejected token share one refetch attempt and its outcome.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as AuthorizedClient from "../src/AuthorizedClient.js"
import * as TokenManager from "../src/TokenManager.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"
import * as Fixture from "./utils/TokenEndpoint.fixture.js"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["undici", NodeHttpClient.layerUndici],
  ["fetch", FetchHttpClient.layer]
]

const token = HttpTestServer.json(200, { access_token: "token-1", token_type: "Bearer", expires_in: 3600 })

// 200 concurrent API calls, all answered 401, over a manager whose endpoint counts its requests. `breakEndpoint`
// runs after the first token was issued and makes every later token request fail fast.
const storm = (
  handler: HttpTestServer.Handler,
  breakEndpoint: (tokenServerScope: Scope.CloseableScope) => Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const { endpoint } = yield* Fixture.make("oms", "oms-secret").setup(handler).pipe(Scope.extend(scope))
    const attempts = yield* Ref.make(0)
    const counted = { ...endpoint, request: Effect.zipRight(Ref.update(attempts, (n) => n + 1), endpoint.request) }
    const manager = yield* TokenManager.make(counted)
    const api = yield* HttpTestServer.make(() => ({ status: 401, body: "{\"error\":\"invalid_token\"}" }))
    const client = yield* AuthorizedClient.make(yield* HttpClient.HttpClient, manager, { origins: [api.origin] })
    yield* manager.get
    assert.strictEqual(yield* Ref.get(attempts), 1)
    yield* breakEndpoint(scope)
    const errors = yield* Effect.all(
      Array.from({ length: 200 }, (_, i) => Effect.flip(client.get(`${api.origin}/orders/${i}`))),
      { concurrency: "unbounded" }
    )
    const received = yield* api.requests
    return { errors, attempts: yield* Ref.get(attempts), apiRequests: received.length }
  })

describe("AuthorizedClient, a 401 storm while the token endpoint fails fast", () => {
  for (const [name, layer] of clients) {
    it.scoped(`${name}: 200 rejected calls, token endpoint 503: one token request, one typed error for all`, () =>
      Effect.gen(function*() {
        let issued = false
        const { apiRequests, attempts, errors } = yield* storm(() => {
          if (issued) return HttpTestServer.json(503, { error: "temporarily_unavailable" })
          issued = true
          return token
        }, () => Effect.void)
        assert.strictEqual(attempts, 2, "exactly one token request after the initial one")
        assert.strictEqual(apiRequests, 200)
        assert.deepStrictEqual(
          [...new Set(errors.map((error) => `${error._tag}:${"reason" in error ? error.reason : ""}`))],
          ["TokenEndpointUnavailable:ServerError"]
        )
      }).pipe(Effect.provide(layer)))

    it.scoped(`${name}: 200 rejected calls, token endpoint refusing connections: one token request, one error`, () =>
      Effect.gen(function*() {
        const { apiRequests, attempts, errors } = yield* storm(
          () => token,
          // The token server goes away: its port now refuses connections.
          (scope) => Scope.close(scope, Exit.void)
        )
        assert.strictEqual(attempts, 2, "exactly one token request after the initial one")
        assert.strictEqual(apiRequests, 200)
        assert.deepStrictEqual([...new Set(errors.map((error) => error._tag))], ["TokenEndpointUnavailable"])
      }).pipe(Effect.provide(layer)))
  }
})

import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Util from "node:util"
import * as AuthorizedClient from "../src/AuthorizedClient.js"
import * as TokenManager from "../src/TokenManager.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"

// Every string reachable through own properties (symbols included), as generic error reporters and redacting loggers
// walk an object, bypassing toJSON and custom inspectors.
const walk = (value: unknown, seen = new Set<unknown>(), depth = 0): string => {
  if (typeof value === "string") return value
  if (value === null || typeof value !== "object" || seen.has(value) || depth > 8) return ""
  seen.add(value)
  const out: Array<string> = []
  for (const key of Reflect.ownKeys(value)) {
    try {
      out.push(walk((value as Record<PropertyKey, unknown>)[key], seen, depth + 1))
    } catch {
      // a throwing getter shows nothing
    }
  }
  return out.join("|")
}

const renderings = (value: unknown): Record<string, string> => ({
  "inspect without custom inspectors": Util.inspect(value, { depth: Infinity, customInspect: false }),
  "inspect showHidden": Util.inspect(value, { depth: Infinity, showHidden: true }),
  "own-property walk": walk(value)
})

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["undici", NodeHttpClient.layerUndici],
  ["node:http", NodeHttpClient.layer],
  ["fetch", FetchHttpClient.layer]
]

describe("AuthorizedClient: the token in renderings that bypass toJSON", () => {
  for (const [name, layer] of clients) {
    it.scoped(`${name}: a response, a filterStatusOk error, a refused connection and a reset body show no token`, () =>
      Effect.gen(function*() {
        const server = yield* HttpTestServer.make((request) =>
          request.url === "/reset"
            ? {
              status: 200,
              headers: { "content-length": "100" },
              write: (res) => {
                res.write("abc")
                res.socket?.destroy()
              }
            }
            : { status: request.url === "/500" ? 500 : 200, body: "x" }
        )
        const closed = `http://127.0.0.1:${yield* HttpTestServer.closedPort}`
        const fake = yield* makeFakeEndpoint(3600)
        const manager = yield* TokenManager.make(fake.endpoint)
        const client = yield* AuthorizedClient.make(yield* HttpClient.HttpClient, manager, {
          origins: [server.origin, closed]
        })
        const values = {
          response: yield* client.get(`${server.origin}/200`),
          "status error": yield* Effect.flip(HttpClient.filterStatusOk(client).get(`${server.origin}/500`)),
          refused: yield* Effect.flip(client.get(`${closed}/x`)),
          reset: yield* Effect.flip(Effect.flatMap(client.get(`${server.origin}/reset`), (response) => response.text))
        }
        const leaks: Array<string> = []
        for (const [what, value] of Object.entries(values)) {
          for (const [how, text] of Object.entries(renderings(value))) {
            if (text.includes("token-1")) leaks.push(`${what} / ${how}`)
          }
        }
        assert.deepStrictEqual(leaks, [])
      }).pipe(Effect.provide(layer)))
  }
})

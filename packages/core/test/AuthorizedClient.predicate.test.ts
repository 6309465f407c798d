import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as AuthorizedClient from "../src/AuthorizedClient.js"
import * as TokenManager from "../src/TokenManager.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"

// A resource server answering 401 with a 200 KB body to everything, counting its open connections.
const server = Effect.acquireRelease(
  Effect.async<{ readonly server: Http.Server; readonly origin: string }>((resume) => {
    const server = Http.createServer((request, response) => {
      request.resume()
      response.writeHead(401)
      response.end("x".repeat(200_000))
    })
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({
        server,
        origin: `http://127.0.0.1:${(server.address() as Net.AddressInfo).port}`
      })))
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

const connections = (server: Http.Server) =>
  Effect.async<number>((resume) => {
    server.getConnections((_, count) => resume(Effect.succeed(count)))
  })

const predicates: ReadonlyArray<readonly [string, AuthorizedClient.IsTokenRejected]> = [
  ["throws", () => {
    throw new Error("a bug in the predicate")
  }],
  ["dies", () => Effect.die("a bug in the predicate")],
  ["fails without reading the body", (response) =>
    Effect.fail(
      new HttpClientError.ResponseError({ request: response.request, response, reason: "StatusCode" })
    )],
  ["returns neither a boolean nor an Effect", () => 1 as unknown as boolean]
]

describe("AuthorizedClient: a custom isTokenRejected that does not answer leaves no connection pinned", () => {
  for (const [label, isTokenRejected] of predicates) {
    it.scoped(`undici: a predicate that ${label}: each call fails, bodies are drained, the manager still works`, () =>
      Effect.gen(function*() {
        const api = yield* server
        const fake = yield* makeFakeEndpoint(3600)
        const manager = yield* TokenManager.make(fake.endpoint)
        const client = yield* AuthorizedClient.make(yield* HttpClient.HttpClient, manager, {
          origins: [api.origin],
          isTokenRejected
        })
        for (let i = 0; i < 8; i++) assert.isTrue(Exit.isFailure(yield* Effect.exit(client.get(`${api.origin}/x`))))
        // Drained bodies give their sockets back to the pool (reused): without the drain, each call pins one.
        assert.isAtMost(yield* connections(api.server), 2)
        yield* manager.get
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
  }
})

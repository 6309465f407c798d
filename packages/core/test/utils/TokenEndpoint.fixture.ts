/**
 * A token endpoint pointing at an `HttpTestServer`, for tests that script what the server answers.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { AccessToken } from "../../src/AccessToken.js"
import type { TokenError } from "../../src/OAuthError.js"
import * as TokenEndpoint from "../../src/TokenEndpoint.js"
import * as HttpTestServer from "./HttpTestServer.js"

export interface Fixture {
  /** A server answering with `handler`, and an endpoint for this client pointing at its `/oauth/token`. */
  readonly setup: (
    handler: HttpTestServer.Handler,
    options?: Partial<TokenEndpoint.Options>
  ) => Effect.Effect<
    { readonly server: HttpTestServer.HttpTestServer; readonly endpoint: TokenEndpoint.Service },
    never,
    HttpClient.HttpClient | Scope.Scope
  >
  /** The error of one request against a server answering with `handler` (a success fails the test). */
  readonly failure: (
    handler: HttpTestServer.Handler,
    options?: Partial<TokenEndpoint.Options>
  ) => Effect.Effect<TokenError, AccessToken, HttpClient.HttpClient | Scope.Scope>
}

export const make = (clientId: string, secret: string): Fixture => {
  const setup = (handler: HttpTestServer.Handler, options: Partial<TokenEndpoint.Options> = {}) =>
    Effect.gen(function*() {
      const server = yield* HttpTestServer.make(handler)
      const endpoint = yield* TokenEndpoint.make({
        tokenUrl: `${server.origin}/oauth/token`,
        clientId,
        clientSecret: Redacted.make(secret),
        ...options
      }).pipe(Effect.orDie)
      return { server, endpoint }
    })
  const failure = (handler: HttpTestServer.Handler, options: Partial<TokenEndpoint.Options> = {}) =>
    setup(handler, options).pipe(Effect.flatMap(({ endpoint }) => Effect.flip(endpoint.request)))
  return { setup, failure }
}

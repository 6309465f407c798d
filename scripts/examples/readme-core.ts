/**
 * The README's core snippets, type-checked by `pnpm check` so the README stays true to the code.
 */
import { AuthorizedClient, OAuthError, Provider, TokenEndpoint, TokenManager } from "@effect-oauth/core"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer, Redacted, Schedule } from "effect"

// --- A token manager for any RFC 6749 server
export const Tokens = TokenManager.layer().pipe(
  Layer.provide(TokenEndpoint.layer({
    tokenUrl: "https://auth.example.com/oauth/token",
    clientId: "my-client",
    clientSecret: Redacted.make(process.env.CLIENT_SECRET ?? ""),
    scope: ["orders:read"]
  })),
  Layer.provide(FetchHttpClient.layer)
)

export const getToken = Effect.gen(function*() {
  const tokens = yield* TokenManager.TokenManager
  const token = yield* tokens.get // cached; refreshed in the background before it expires
  return token.authorization // Redacted<"Bearer …">
})

// --- An authorized HttpClient
export const ExampleApi: Provider.Provider = {
  name: "example",
  tokenUrl: "https://auth.example.com/oauth/token",
  apiBaseUrl: "https://api.example.com",
  authMethod: "client_secret_basic",
  encoding: "form"
}

export const ApiLive = Provider.layer(ExampleApi, { clientId: "my-client", clientSecret: Redacted.make("…") })

export const listOrders = Effect.gen(function*() {
  const client = yield* AuthorizedClient.AuthorizedClient
  const response = yield* client.get("/orders")
  return yield* response.json
}).pipe(
  Effect.retry({ while: OAuthError.isTransient, schedule: Schedule.exponential("1 second"), times: 5 }),
  Effect.catchTag("InvalidCredentials", (error) => Effect.die(`rotate the client secret: ${error.message}`)),
  Effect.provide(ApiLive),
  Effect.provide(FetchHttpClient.layer)
)

// --- From the environment
export const ApiFromEnv = Layer.unwrapEffect(
  Effect.map(Provider.credentialsConfig("EXAMPLE"), (credentials) => Provider.layer(ExampleApi, credentials))
)

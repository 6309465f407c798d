/**
 * The snippets of packages/core/README.md, type-checked by `pnpm check` so that README stays true to the code.
 */
import { AuthorizedClient, Provider, TokenEndpoint, TokenManager } from "@effect-oauth/core"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"

// --- 1. TokenEndpoint + TokenManager
export const Tokens = TokenManager.layer().pipe(
  Layer.provide(TokenEndpoint.layer({
    tokenUrl: "https://auth.example.com/oauth/token",
    clientId: "my-client",
    clientSecret: Redacted.make(process.env.CLIENT_SECRET ?? ""),
    scope: ["orders:read"]
  })),
  Layer.provide(FetchHttpClient.layer)
)

export const program = Effect.gen(function*() {
  const tokens = yield* TokenManager.TokenManager
  const token = yield* tokens.get // cached; refreshed in the background before it expires
  return token.authorization // Redacted<"Bearer …">
})

// --- 2. AuthorizedClient
export const listOrders = Effect.gen(function*() {
  const client = yield* AuthorizedClient.make(
    yield* HttpClient.HttpClient,
    yield* TokenManager.TokenManager,
    { origins: ["https://api.example.com"] }
  ) // fails with a ConfigError naming the field when an origin is missing, invalid or insecure
  const response = yield* client.get("https://api.example.com/orders")
  return yield* response.json
})

// --- 3. Provider
const ExampleApi: Provider.Provider = {
  name: "example",
  tokenUrl: "https://auth.example.com/oauth/token",
  apiBaseUrl: "https://api.example.com",
  authMethod: "client_secret_basic",
  encoding: "form"
}

const ApiLive = Provider.layer(ExampleApi, { clientId: "my-client", clientSecret: Redacted.make("…") })

export const orders = Effect.gen(function*() {
  const client = yield* AuthorizedClient.AuthorizedClient
  return yield* (yield* client.get("/orders")).json // relative: goes under apiBaseUrl, with the token
}).pipe(Effect.provide(ApiLive), Effect.provide(FetchHttpClient.layer))

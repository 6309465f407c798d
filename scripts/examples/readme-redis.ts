/**
 * The snippets of packages/redis/README.md, type-checked by `pnpm check` so the README stays true to the code.
 */
import { BringgClient } from "@effect-oauth/bringg"
import { TokenEndpoint, TokenManager } from "@effect-oauth/core"
import { RedisTokenStore } from "@effect-oauth/redis"
import { FetchHttpClient } from "@effect/platform"
import { Config, Effect, Layer, Redacted } from "effect"

// --- A fleet in a few lines
export const Tokens = TokenManager.layer().pipe(
  Layer.provide(TokenEndpoint.layer({
    tokenUrl: "https://auth.example.com/oauth/token",
    clientId: "my-client",
    clientSecret: Redacted.make(process.env.CLIENT_SECRET ?? ""),
    scope: ["orders:read"]
  })),
  Layer.provide(RedisTokenStore.layerConfig()), // REDIS_URL, REDIS_TOKEN_ENCRYPTION_KEYS (optional)
  Layer.provide(FetchHttpClient.layer)
)

// --- Provider clients take the store as an option
export const bringg = Effect.gen(function*() {
  const store = yield* RedisTokenStore.make({ url: yield* Config.redacted("REDIS_URL") })
  return yield* BringgClient.make({ ...(yield* BringgClient.config), store })
})

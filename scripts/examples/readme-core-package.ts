/**
 * The snippets of packages/core/README.md, type-checked by `pnpm check` so that README stays true to the code. Its
 * first snippet and the provider description of its third are the root README's, checked in `readme-core.ts`.
 */
import { AuthorizedClient, TokenManager } from "@effect-oauth/core"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Effect } from "effect"
import { ApiLive } from "./readme-core.js"

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
export const orders = Effect.gen(function*() {
  const client = yield* AuthorizedClient.AuthorizedClient
  return yield* (yield* client.get("/orders")).json // relative: goes under apiBaseUrl, with the token
}).pipe(Effect.provide(ApiLive), Effect.provide(FetchHttpClient.layer))

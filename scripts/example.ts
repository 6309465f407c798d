/**
 * A runnable example: starts the RFC 6749 emulator on a loopback port, builds a TokenManager for it, and shows the
 * behaviour that matters: one token request for many concurrent callers, a failure as a typed error, a forced
 * refresh, and the lifecycle events. Run with `pnpm example`.
 */
import { OAuthError, TokenEndpoint, TokenManager } from "@effect-oauth/core"
import { Emulator, Fault } from "@effect-oauth/testing"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make({ provider: "rfc6749", clients: [{ id: "example", secret: "example-secret" }] })
  yield* Effect.log(`emulator listening at ${emulator.baseUrl}`)

  const endpoint = yield* TokenEndpoint.make({
    tokenUrl: emulator.tokenUrl,
    clientId: "example",
    clientSecret: Redacted.make("example-secret")
  })
  const tokens = yield* TokenManager.make(endpoint, { name: "example" })
  yield* Stream.runForEach(tokens.events, (event) => Effect.log(`event: ${event._tag}`)).pipe(Effect.forkScoped)

  const many = yield* Effect.all(Array.from({ length: 100 }, () => tokens.get), { concurrency: "unbounded" })
  yield* Effect.log(
    `100 concurrent callers got ${new Set(many).size} token from ${(yield* emulator.stats).tokenRequests} request`
  )
  yield* Effect.log(
    `the token prints as ${String(many[0]?.value)}; it expires in ${Math.round(many[0]!.lifetimeMillis / 1000)} s`
  )

  yield* emulator.injectFault(Fault.unavailable("1 second"))
  const failure = yield* Effect.flip(tokens.refresh)
  yield* Effect.log(`a forced refresh met a 503: ${failure._tag}, transient: ${OAuthError.isTransient(failure)}`)
  const fresh = yield* tokens.refresh
  yield* Effect.log(`the next refresh succeeded; the cache now serves it: ${(yield* tokens.get) === fresh}`)
  yield* Effect.log(`token requests at the server: ${(yield* emulator.stats).tokenRequests}`)
})

NodeRuntime.runMain(program.pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))

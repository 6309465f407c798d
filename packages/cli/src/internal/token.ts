import type { AccessToken } from "@effect-oauth/core"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { makeApp } from "./credentials.js"
import { appFlags, json, providerArg, verbose } from "./flags.js"
import { diagnostics, humanDuration, minimumLevel, orDash, rows, stdout } from "./output.js"

const showToken = Options.boolean("show-token").pipe(
  Options.withDescription("Also print the access token itself (it is hidden by default)")
)

const skew = (millis: number) =>
  Math.abs(millis) < 1000
    ? `${(millis / 1000).toFixed(1)} s (within created_at's whole-second precision)`
    : `the server's clock is ${humanDuration(millis)} ${millis > 0 ? "behind" : "ahead of"} this machine's`

/** What `token` prints: one JSON object, or aligned rows. The token itself only with `--show-token`. */
const report = (provider: string, token: AccessToken.AccessToken, asJson: boolean, show: boolean) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    if (asJson) {
      return yield* stdout(JSON.stringify({
        provider,
        tokenType: token.tokenType,
        scope: Option.getOrNull(token.scope),
        lifetimeSeconds: Math.round(token.lifetimeMillis / 1000),
        issuedAt: new Date(token.issuedAt).toISOString(),
        expiresAt: new Date(token.expiresAt).toISOString(),
        serverClockSkewMillis: Option.getOrNull(token.serverClockSkewMillis),
        ...(show ? { accessToken: Redacted.value(token.value) } : {})
      }))
    }
    const lines = rows([
      ["provider", provider],
      ["token type", token.tokenType],
      ["scope", orDash(token.scope)],
      ["lifetime", `${humanDuration(token.lifetimeMillis)} (${Math.round(token.lifetimeMillis / 1000)} s)`],
      ["expires at", `${new Date(token.expiresAt).toISOString()} (in ${humanDuration(token.expiresAt - now)})`],
      ["clock skew", orDash(token.serverClockSkewMillis, skew)],
      ["access token", show ? Redacted.value(token.value) : "hidden (--show-token prints it)"]
    ])
    for (const line of lines) yield* stdout(line)
  })

/** `effect-oauth token <provider>`: one token request through the provider's client, and what came back. */
export const token = Command.make(
  "token",
  { provider: providerArg, ...appFlags, json, verbose, showToken },
  (options) =>
    Effect.gen(function*() {
      const app = yield* makeApp(options.provider, options)
      const accessToken = yield* app.manager.get
      yield* report(options.provider, accessToken, options.json, options.showToken)
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.mergeAll(FetchHttpClient.layer, diagnostics(options.verbose), minimumLevel(options.verbose)))
    )
).pipe(
  Command.withDescription(
    "Get an access token with the app's credentials and show what came back: token type, scope, lifetime, expiry and " +
      "the server's clock skew. The secret comes from the environment, --secret-stdin or a hidden prompt, never " +
      "from the command line."
  )
)

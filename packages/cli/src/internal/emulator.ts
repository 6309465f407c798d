import { Emulator } from "@effect-oauth/testing"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { UsageError } from "../ExitCode.js"
import { humanDuration, requestLog, rows, stdout } from "./output.js"

const provider = Options.choiceWithValue(
  "provider",
  [
    ["bringg", "bringg"],
    ["dhl", "dhl"],
    ["oauth", "rfc6749"],
    ["rfc6749", "rfc6749"]
  ] as const
).pipe(
  Options.withDescription("The wire format: bringg, dhl, or oauth (a generic RFC 6749 server)"),
  Options.withDefault("bringg" as const)
)
const client = Options.text("client").pipe(
  Options.withDescription("A client the emulator accepts, id:secret; repeat for several (default demo:demo-secret)"),
  Options.repeated
)
const lifetime = Options.text("lifetime").pipe(
  Options.withDescription("Lifetime of the tokens it issues: 90, 90s, 15m, 1h or 500ms (default 1h)"),
  Options.withDefault("1h")
)
const oneTokenPerClient = Options.boolean("one-token-per-client").pipe(
  Options.withDescription("Issuing a token revokes the client's previous one")
)
const port = Options.integer("port").pipe(
  Options.withDescription("TCP port; 0 picks a free one"),
  Options.withDefault(0)
)
const host = Options.text("host").pipe(
  Options.withDescription("Interface to listen on"),
  Options.withDefault("127.0.0.1")
)

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

/** `90`, `90s`, `15m`, `1h`, `500ms`: a positive duration; a bare number is seconds. */
export const parseLifetime = (input: string): Either.Either<Duration.Duration, UsageError> => {
  const match = input.trim().match(/^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/)
  const millis = match === null ? NaN : Number(match[1]) * (units[match[2] ?? "s"] ?? NaN)
  return Number.isFinite(millis) && millis >= 1000
    ? Either.right(Duration.millis(millis))
    : Either.left(
      new UsageError({ message: `--lifetime takes a duration of at least 1s like 90s, 15m or 1h, got "${input}"` })
    )
}

const parseClient = (pair: string): Either.Either<Emulator.ClientOptions, UsageError> => {
  const colon = pair.indexOf(":")
  return colon <= 0 || colon === pair.length - 1
    ? Either.left(new UsageError({ message: `--client takes id:secret, got "${pair.slice(0, Math.max(colon, 0))}…"` }))
    : Either.right({ id: pair.slice(0, colon), secret: pair.slice(colon + 1) })
}

const paths = {
  bringg: { api: "/services/<name>" },
  dhl: { api: "any other path, e.g. /tracking/v4/package" },
  rfc6749: { api: "/api/<path>" }
} as const

/**
 * `effect-oauth emulator`: a provider emulator on a local port until interrupted, logging one masked line per request,
 * with its admin API under `/_emulator/`.
 */
export const emulator = Command.make(
  "emulator",
  { provider, client, lifetime, oneTokenPerClient, port, host },
  (options) =>
    Effect.gen(function*() {
      const tokenLifetime = yield* parseLifetime(options.lifetime)
      const clients = yield* Effect.forEach(
        options.client.length === 0 ? ["demo:demo-secret"] : options.client,
        (pair) => parseClient(pair)
      )
      if (options.port < 0 || options.port > 65535) {
        return yield* new UsageError({ message: `--port takes 0 to 65535, got ${options.port}` })
      }
      const handle = yield* Emulator.make({
        provider: options.provider,
        port: options.port,
        host: options.host,
        clients,
        tokenLifetime,
        oneTokenPerClient: options.oneTokenPerClient,
        logRequests: true
      })
      const admin = `${handle.baseUrl}/_emulator`
      yield* stdout(`${options.provider} emulator listening on ${handle.baseUrl}`)
      const lines = rows([
        ["token endpoint", `POST ${handle.tokenUrl}`],
        ["API", paths[options.provider].api],
        ["clients", clients.map((c) => c.id).join(", ") + (options.client.length === 0 ? " (secret demo-secret)" : "")],
        [
          "tokens live",
          `${humanDuration(Duration.toMillis(tokenLifetime))}${options.oneTokenPerClient ? ", one per client" : ""}`
        ],
        ["admin API", admin],
        ["", "GET /stats, GET /requests, POST /reset"],
        ["", "POST /clients/<id>/revoke | expire | secret"],
        ["", "POST /faults {\"type\":\"status\",\"status\":503,\"retryAfter\":2}, DELETE /faults"]
      ])
      for (const line of lines) yield* stdout(`  ${line}`)
      yield* stdout("one line per request follows (secrets and tokens are never shown); Ctrl-C stops")
      return yield* Effect.never
    }).pipe(Effect.scoped, Effect.provide(requestLog))
).pipe(
  Command.withDescription(
    "Run a Bringg, DHL or RFC 6749 provider emulator on a local port until interrupted, printing one line per " +
      "request (never a secret or a token), with an admin API on the same server to revoke or expire a client's " +
      "tokens, regenerate its secret, and inject faults."
  )
)

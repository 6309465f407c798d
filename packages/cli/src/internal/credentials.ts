import { BringgClient } from "@effect-oauth/bringg"
import { Provider } from "@effect-oauth/core"
import { DhlEcommerceClient } from "@effect-oauth/dhl"
import * as Prompt from "@effect/cli/Prompt"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { UsageError } from "../ExitCode.js"

/** The providers `token` and `call` know, by the name users type. */
export const providerNames = ["bringg", "dhl", "oauth"] as const

/** One of `providerNames`. */
export type ProviderName = typeof providerNames[number]

/** The flags that say which app to use; each stands for an environment variable and wins over it. */
export interface AppFlags {
  readonly clientId: Option.Option<string>
  readonly secretStdin: boolean
  readonly region: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly ttl: Option.Option<number>
  readonly environment: Option.Option<string>
  readonly tokenUrl: Option.Option<string>
  readonly authMethod: Option.Option<string>
  readonly encoding: Option.Option<string>
  readonly scope: Option.Option<string>
}

/** The environment variable prefix of each provider, as the provider packages' `layerConfig` read them. */
export const prefixes: Record<ProviderName, string> = { bringg: "BRINGG", dhl: "DHL_ECOMMERCE", oauth: "OAUTH" }

// Which flag sets which variable, per provider; a flag the provider does not use is refused.
const flagVariables: Record<ProviderName, Partial<Record<keyof AppFlags, string>>> = {
  bringg: { clientId: "CLIENT_ID", region: "REGION", baseUrl: "BASE_URL", ttl: "TTL" },
  dhl: { clientId: "CLIENT_ID", environment: "ENVIRONMENT", baseUrl: "BASE_URL" },
  oauth: {
    clientId: "CLIENT_ID",
    tokenUrl: "TOKEN_URL",
    baseUrl: "API_URL",
    authMethod: "AUTH_METHOD",
    encoding: "ENCODING",
    scope: "SCOPE"
  }
}

const flagNames: Record<string, string> = {
  clientId: "--client-id",
  region: "--region",
  baseUrl: "--base-url",
  ttl: "--ttl",
  environment: "--environment",
  tokenUrl: "--token-url",
  authMethod: "--auth-method",
  encoding: "--encoding",
  scope: "--scope"
}

/** The generic RFC 6749 server's configuration: `OAUTH_*` variables, as `token oauth` and `call oauth` read them. */
const oauthConfig = Config.all({
  credentials: Provider.credentialsConfig("OAUTH"),
  tokenUrl: Provider.secureUrlConfig("OAUTH_TOKEN_URL"),
  apiUrl: Config.option(Provider.secureUrlConfig("OAUTH_API_URL")),
  authMethod: Config.literal("client_secret_basic", "client_secret_basic_plain", "client_secret_post")(
    "OAUTH_AUTH_METHOD"
  ).pipe(Config.withDefault("client_secret_basic" as const)),
  encoding: Config.literal("form", "multipart", "json")("OAUTH_ENCODING").pipe(Config.withDefault("form" as const)),
  scope: Config.option(Config.nonEmptyString("OAUTH_SCOPE"))
})

const readStdin = Effect.tryPromise({
  try: async () => {
    const chunks: Array<Buffer> = []
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array))
    return Buffer.concat(chunks).toString("utf8")
  },
  catch: () => new UsageError({ message: "--secret-stdin: standard input could not be read" })
})

/**
 * The client secret, never from the command line: the first line of standard input with `--secret-stdin`, else the
 * environment variable, else a hidden prompt when standard input is a terminal. `None` leaves the variable unset,
 * and the configuration then reports it missing.
 */
const secret = (variable: string, flags: AppFlags, environment: ReadonlyMap<string, string>) =>
  Effect.gen(function*() {
    if (flags.secretStdin) {
      const line = (yield* readStdin).split(/\r?\n/)[0] ?? ""
      if (line === "") return yield* new UsageError({ message: "--secret-stdin: standard input holds no secret" })
      return Option.some(line)
    }
    if ((environment.get(variable) ?? "") !== "") return Option.none<string>()
    if (process.stdin.isTTY !== true) return Option.none<string>()
    const typed = yield* Prompt.run(Prompt.hidden({ message: `${variable}` })).pipe(
      Effect.mapError(() => new UsageError({ message: "no client secret: the prompt was cancelled" }))
    )
    return Option.some(Redacted.value(typed))
  })

const leaves = (error: ConfigError.ConfigError): ReadonlyArray<ConfigError.ConfigError> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...leaves(error.left), ...leaves(error.right)]
    default:
      return [error]
  }
}

/**
 * A configuration error as one line that names the variable (and its flag), never a value; a value that came from a
 * flag is named by that flag (`fromFlags`: variable → flag), which is what the user typed.
 */
export const describeConfigError = (
  provider: ProviderName,
  error: ConfigError.ConfigError,
  fromFlags: ReadonlyMap<string, string> = new Map()
): string => {
  const prefix = prefixes[provider]
  const lines = leaves(error).map((leaf) => {
    const variable = leaf._op === "And" || leaf._op === "Or" ? "" : leaf.path.join("_")
    const flag = Object.entries(flagVariables[provider]).find(([, name]) => `${prefix}_${name}` === variable)?.[0]
    const alternative = flag === undefined ? "" : ` or pass ${flagNames[flag]}`
    if (variable === `${prefix}_CLIENT_SECRET` && leaf._op === "MissingData") {
      return `${variable} is not set: set it, pass --secret-stdin, or run on a terminal to be prompted`
    }
    if (leaf._op === "MissingData" && leaf.message.startsWith("Expected")) {
      return `${variable} is not set: set it${alternative}`
    }
    const name = fromFlags.get(variable) ?? variable
    return `${name === "" ? "" : `${name}: `}${leaf.message}`
  })
  return Array.from(new Set(lines)).join("; ")
}

const configured = <A, R>(
  provider: ProviderName,
  flags: AppFlags,
  build: (environment: ConfigProvider.ConfigProvider) => Effect.Effect<A, ConfigError.ConfigError, R>
) =>
  Effect.gen(function*() {
    const prefix = prefixes[provider]
    const environment = new Map(
      Object.entries(process.env).flatMap(([key, value]) => value === undefined ? [] : [[key, value] as const])
    )
    const fromFlags = new Map<string, string>()
    for (const flag of Object.keys(flagNames)) {
      const value: unknown = flags[flag as keyof AppFlags]
      if (!Option.isOption(value) || Option.isNone(value)) continue
      const variable = flagVariables[provider][flag as keyof AppFlags]
      if (variable === undefined) {
        return yield* new UsageError({ message: `${flagNames[flag]} does not apply to ${provider}` })
      }
      environment.set(`${prefix}_${variable}`, String(value.value))
      fromFlags.set(`${prefix}_${variable}`, flagNames[flag]!)
      // A flag naming where Bringg lives replaces the other way of saying it from the environment.
      if (variable === "REGION") environment.delete(`${prefix}_BASE_URL`)
      if (provider === "bringg" && variable === "BASE_URL") environment.delete(`${prefix}_REGION`)
    }
    // An empty secret is no secret: the user gets the ways to give one.
    if (environment.get(`${prefix}_CLIENT_SECRET`) === "") environment.delete(`${prefix}_CLIENT_SECRET`)
    const typed = yield* secret(`${prefix}_CLIENT_SECRET`, flags, environment)
    if (Option.isSome(typed)) environment.set(`${prefix}_CLIENT_SECRET`, typed.value)
    return yield* build(ConfigProvider.fromMap(environment, { pathDelim: "__" })).pipe(
      Effect.mapError((error) => new UsageError({ message: describeConfigError(provider, error, fromFlags) }))
    )
  })

/**
 * Builds the app `token` and `call` use, exactly as a program would: `BringgClient.make`, `DhlEcommerceClient.make`,
 * or `Provider.make` for a generic RFC 6749 server, from the provider's environment variables with the flags over
 * them. Its token manager lives in the current scope.
 */
export const makeApp = (
  provider: ProviderName,
  flags: AppFlags
): Effect.Effect<Provider.App, UsageError, HttpClient.HttpClient | Scope.Scope | Prompt.Prompt.Environment> =>
  configured(provider, flags, (environment) => {
    const read = <A>(config: Config.Config<A>) => Effect.withConfigProvider(config, environment)
    switch (provider) {
      case "bringg":
        return Effect.flatMap(read(BringgClient.config), (options) => BringgClient.make({ ...options, name: "bringg" }))
      case "dhl":
        return Effect.flatMap(read(DhlEcommerceClient.config), DhlEcommerceClient.make)
      case "oauth":
        return Effect.flatMap(read(oauthConfig), (options) =>
          Provider.make(
            {
              name: "oauth",
              tokenUrl: options.tokenUrl,
              apiBaseUrl: Option.getOrElse(options.apiUrl, () => new URL(options.tokenUrl.origin)),
              authMethod: options.authMethod,
              encoding: options.encoding
            },
            { ...options.credentials, scope: Option.getOrUndefined(options.scope) }
          ))
    }
  })

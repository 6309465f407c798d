import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { UsageError } from "../ExitCode.js"
import { makeApp } from "./credentials.js"
import { appFlags, json, providerArg, verbose } from "./flags.js"
import { diagnostics, minimumLevel, stdout } from "./output.js"

const method = Args.text({ name: "METHOD" }).pipe(Args.withDescription("GET, POST, PUT, PATCH, DELETE, …"))
const path = Args.text({ name: "path" }).pipe(
  Args.withDescription("The path under the API base URL, e.g. /services/create_task or /tracking/v4/package")
)
const data = Options.text("data").pipe(
  Options.withAlias("d"),
  Options.withDescription("The request body (sent as application/json when it parses as JSON, else text/plain)"),
  Options.optional
)
const header = Options.text("header").pipe(
  Options.withAlias("H"),
  Options.withDescription("A request header, \"Name: value\"; repeat for several"),
  Options.repeated
)

const parseHeader = (line: string) =>
  Effect.gen(function*() {
    const colon = line.indexOf(":")
    const name = line.slice(0, colon).trim()
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return yield* new UsageError({ message: `--header takes "Name: value", got "${line}"` })
    }
    if (name.toLowerCase() === "authorization") {
      return yield* new UsageError({ message: "--header Authorization: the token is added by the client" })
    }
    return [name, line.slice(colon + 1).trim()] as const
  })

const isJson = (text: string) => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

const request = (verb: string, target: string, body: Option.Option<string>, headers: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    if (!/^[A-Z]+$/.test(verb)) return yield* new UsageError({ message: `METHOD must be upper case, got "${verb}"` })
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      return yield* new UsageError({ message: `path must be relative to the API base URL, got "${target}"` })
    }
    const pairs = yield* Effect.forEach(headers, parseHeader)
    const base = HttpClientRequest.make(verb as HttpClientRequest.HttpClientRequest["method"])(target).pipe(
      HttpClientRequest.setHeaders(Object.fromEntries(pairs))
    )
    return Option.match(body, {
      onNone: () => base,
      onSome: (text) => {
        const declared = pairs.find(([name]) => name.toLowerCase() === "content-type")?.[1]
        return HttpClientRequest.bodyText(base, text, declared ?? (isJson(text) ? "application/json" : "text/plain"))
      }
    })
  })

const parsed = (text: string): unknown => isJson(text) ? JSON.parse(text) : text

/**
 * `effect-oauth call <provider> <METHOD> <path>`: one API call through the provider's authorized client (the token
 * attached, one refetch and replay when the API rejects it), printing status, headers and body.
 */
export const call = Command.make(
  "call",
  { provider: providerArg, method, path, data, header, ...appFlags, json, verbose },
  (options) =>
    Effect.gen(function*() {
      const outgoing = yield* request(options.method, options.path, options.data, options.header)
      const app = yield* makeApp(options.provider, options)
      const response = yield* app.client.execute(outgoing)
      const text = yield* response.text
      if (options.json) {
        return yield* stdout(JSON.stringify({ status: response.status, headers: response.headers, body: parsed(text) }))
      }
      yield* stdout(`HTTP ${response.status}`)
      for (const [name, value] of Object.entries(response.headers)) yield* stdout(`${name}: ${value}`)
      yield* stdout("")
      if (text !== "") yield* stdout(text)
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.mergeAll(FetchHttpClient.layer, diagnostics(options.verbose), minimumLevel(options.verbose)))
    )
).pipe(
  Command.withDescription(
    "One authorized API call through the same client programs use: the token is fetched and attached, and when the " +
      "API rejects it, one new token is fetched and the call replayed once. Prints the status, headers and body."
  )
)

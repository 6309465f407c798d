/**
 * The pieces of `pnpm demo` (scripts/demo.ts): the narrator that prints and keeps the transcript, one demo app with its
 * tallies, its view of the wire, the narration of its token manager's events, and the worker that calls its API.
 */
import type { AuthorizedClient, OAuthError, Provider, TokenManager } from "@effect-oauth/core"
import type { Emulator } from "@effect-oauth/testing"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** Seconds with at most one decimal, e.g. `5.3 s`. */
export const secs = (millis: number) => `${Number((millis / 1000).toFixed(1))} s`

/** Prints lines with a timestamp relative to the start, and keeps them for the leak check at the end. */
export class Narrator {
  readonly transcript: Array<string> = []
  readonly secrets = new Set<string>()
  /** Every access token the emulators issued, read off the wire (see `wire`) and never printed. */
  readonly tokens = new Set<string>()

  constructor(readonly startedAt: number) {}

  print(at: number, text: string): void {
    this.plain(`[${((at - this.startedAt) / 1000).toFixed(1).padStart(4)}s] ${text}`)
  }

  plain(line: string): void {
    this.transcript.push(line)
    console.log(line)
  }

  readonly say = (text: string): Effect.Effect<void> =>
    Effect.map(Clock.currentTimeMillis, (now) => this.print(now, text))

  readonly elapsed: Effect.Effect<number> = Effect.map(Clock.currentTimeMillis, (now) => now - this.startedAt)

  /** The library's warnings (a failed refresh, a failed fetch), one neat line each, under the manager's name. */
  readonly logger = Logger.make(({ annotations, cause, date, logLevel, message }) => {
    const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
    const detail = Option.getOrUndefined(HashMap.get(annotations, "message")) ??
      (Cause.isEmpty(cause) ? undefined : Cause.pretty(cause))
    const manager = String(Option.getOrElse(HashMap.get(annotations, "oauth.manager"), () => "demo"))
    this.print(
      date.getTime(),
      `${manager.padEnd(13)}  log ${logLevel.label}: ${text}${detail === undefined ? "" : `: ${detail}`}`
    )
  })
}

export interface Seen {
  readonly at: number
  readonly event: TokenManager.TokenEvent
}

export type Call = (
  client: AuthorizedClient.Service,
  n: number
) => Effect.Effect<unknown, HttpClientError.HttpClientError | OAuthError.OAuthError>

/** One app of the demo: its current client and manager, its worker's tallies and what it saw. */
export class DemoApp {
  ok = 0
  failed = 0
  replays = 0
  invalidCredentials = 0
  parked = false
  /** 401 answers of the API, as the response bodies describe them. */
  readonly rejections: Array<string> = []
  readonly seen: Array<Seen> = []
  lastToken: { readonly issuedAt: number; readonly expiresAt: number } | undefined
  failuresInARow = 0
  current: Provider.App | undefined
  readonly tag: string

  constructor(
    readonly name: string,
    readonly clientId: string,
    readonly emulator: Emulator.Handle,
    readonly label: string,
    readonly call: Call
  ) {
    this.tag = `${name.padEnd(13)}  `
  }

  count(tag: TokenManager.TokenEvent["_tag"], reason?: TokenManager.FetchReason): number {
    return this.seen.filter(({ event }) =>
      event._tag === tag && (reason === undefined || ("reason" in event && event.reason === reason))
    ).length
  }
}

export const createTask: Call = (client, n) =>
  client.post("/services/create_task", { body: HttpBody.unsafeJson({ title: `order #${n}`, way_points: [] }) }).pipe(
    Effect.flatMap(HttpClientResponse.filterStatusOk),
    Effect.flatMap((response) => response.json)
  )

export const trackPackage: Call = (client) =>
  client.get("/tracking/v4/package", { urlParams: { trackingId: "GM2951173225174494" } }).pipe(
    Effect.flatMap(HttpClientResponse.filterStatusOk),
    Effect.flatMap((response) => response.json)
  )

/**
 * The app's view of the wire, under its authorized client: a 401 from the API is printed with what its body says,
 * and the access token of every token response goes into the leak check's list (never printed). A body read here is
 * handed on as a fresh response, so the library reads it as if nothing had looked.
 */
const wire = (narrator: Narrator, app: DemoApp, http: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(
    http,
    Effect.flatMap((response) => {
      const isToken = response.request.url.startsWith(app.emulator.tokenUrl)
      if (isToken ? response.status !== 200 : response.status !== 401) return Effect.succeed(response)
      return Effect.gen(function*() {
        const text = yield* response.text
        const body = parseObject(text)
        if (isToken) {
          if (typeof body["access_token"] === "string") narrator.tokens.add(body["access_token"])
        } else {
          const said = String(body["title"] ?? body["error_description"] ?? body["error"] ?? "no description")
          app.rejections.push(said)
          yield* narrator.say(`${app.tag}${app.label} ← 401 "${said}"`)
        }
        return HttpClientResponse.fromWeb(
          response.request,
          new Response(text, { status: response.status, headers: response.headers })
        )
      })
    })
  )

const parseObject = (text: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

/** One narrative line per token event. */
const describe = (narrator: Narrator, app: DemoApp, event: TokenManager.TokenEvent) =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    app.seen.push({ at: now, event })
    const say = (text: string) => narrator.print(now, `${app.tag}${text}`)
    switch (event._tag) {
      case "Fetched": {
        const lives = secs(event.expiresAt - event.issuedAt)
        say(
          event.reason === "initial"
            ? `first token fetched (lives ${lives})`
            : event.reason === "invalidated"
            ? `one new token fetched after the rejection (lives ${lives})`
            : `new token fetched (${event.reason}; lives ${lives})`
        )
        app.lastToken = event
        app.failuresInARow = 0
        return
      }
      case "Refreshed": {
        const previous = app.lastToken
        const lifetime = event.expiresAt - event.issuedAt
        const lived = previous === undefined
          ? ""
          : ` (token lived ${secs(event.issuedAt - previous.issuedAt)} of ${
            secs(previous.expiresAt - previous.issuedAt)
          }${app.failuresInARow > 0 ? `, after ${app.failuresInARow} failed attempts` : ""})`
        const claims = previous !== undefined && Math.abs(previous.expiresAt - previous.issuedAt - lifetime) > 1000
          ? `; the new token says it lives ${secs(lifetime)}`
          : ""
        say(`refreshed ahead of expiry${lived}${claims}`)
        app.lastToken = event
        app.failuresInARow = 0
        return
      }
      case "Failed": {
        app.failuresInARow++
        // A failure that is not retried reaches the caller, whose line says it (see `callOnce`).
        if (Option.isNone(event.retryIn)) return
        const retry = Option.match(event.retryIn, {
          onNone: () => " → not retried",
          onSome: (delay) =>
            ` → retry in ${Duration.format(delay)}, calls go on with the current token${
              app.lastToken === undefined ? "" : ` (expires in ${secs(app.lastToken.expiresAt - now)})`
            }`
        })
        say(`token request failed: ${event.error}${retry}`)
        return
      }
      case "Invalidated": {
        say("token invalidated: the API refused it")
        app.lastToken = undefined
        return
      }
    }
  })

/** Builds (or rebuilds) an app over its wire and narrates its manager's events. */
export const build = (
  narrator: Narrator,
  app: DemoApp,
  make: Effect.Effect<Provider.App, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope>
) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const built = yield* Effect.provideService(make, HttpClient.HttpClient, wire(narrator, app, http))
    app.current = built
    app.lastToken = undefined
    yield* Stream.runForEach(built.manager.events, (event) => describe(narrator, app, event)).pipe(Effect.forkScoped)
  })

/** One API call; a failure is printed with its tag, and `InvalidCredentials` (permanent) parks the app. */
const callOnce = (narrator: Narrator, app: DemoApp, n: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const rejectionsBefore = app.rejections.length
    return app.call(app.current!.client, n).pipe(
      Effect.zipRight(Effect.suspend(() => {
        app.ok++
        if (app.rejections.length === rejectionsBefore) return Effect.void
        app.replays++
        // Lets the event narrator (another fiber) print the invalidation and the new token first.
        return Effect.zipRight(
          Effect.sleep("20 millis"),
          narrator.say(`${app.tag}${app.label} → 200 on the replay with the new token: the call succeeded`)
        )
      })),
      Effect.catchTag("InvalidCredentials", (error) =>
        Effect.suspend(() => {
          app.failed++
          app.invalidCredentials++
          app.parked = true
          return narrator.say(
            `${app.tag}${app.label} failed: its token request was refused, caught as InvalidCredentials by tag ` +
              `(HTTP ${error.status}, ${error.error}): permanent, so the worker parks this app until its secret is rotated`
          )
        })),
      Effect.catchAll((error) =>
        Effect.suspend(() => {
          app.failed++
          return narrator.say(`${app.tag}${app.label} FAILED: ${error._tag}: ${error.message}`)
        })
      )
    )
  })

/** Calls every 500 ms until `running` turns false; never interrupted mid-call, so every count is final. */
export const worker = (narrator: Narrator, app: DemoApp, running: Ref.Ref<boolean>) =>
  Effect.gen(function*() {
    for (let n = 1; yield* Ref.get(running); n++) {
      if (!app.parked) yield* callOnce(narrator, app, n)
      yield* Effect.sleep("500 millis")
    }
  })

/**
 * `pnpm demo`: three apps call their APIs twice a second for about 30 seconds, two Bringg apps and one DHL eCommerce
 * app, against in-process emulators that issue tokens living 8 and 12 seconds. On a timeline the demo injects what
 * the library exists for (a token endpoint outage, a revoked token, a token that expires before its `expires_in`
 * says, a regenerated secret) and narrates what happens from the token managers' `events` and the API results. It
 * ends with a summary, checks its own story, and proves that no secret and no token reached its output.
 */
import { BringgClient } from "@effect-oauth/bringg"
import type { TokenManager } from "@effect-oauth/core"
import { DhlEcommerceClient } from "@effect-oauth/dhl"
import { Emulator, Fault } from "@effect-oauth/testing"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { build, createTask, DemoApp, Narrator, secs, trackPackage, worker } from "./demo/apps.js"

// The apps' credentials. Distinctive strings, so the leak check at the end cannot miss one.
const secrets = {
  oms: "oms-4f9KqT7xWb2LmZ8cR1", // Bringg app of the order management system
  wms: "wms-Vn3Rj6YpA1sHd5GeQ7", // Bringg app of the warehouse
  dhl: "dhl-Xc8Tu2NqK7bMw4FzP3" // DHL eCommerce app tracking parcels
}
const bringgLifetime = Duration.seconds(8)
const dhlLifetime = Duration.seconds(12)
const outage = { retryAfter: Duration.seconds(2), times: 2 }
const claimedLifetime = 3600
const deadline = 38_000 // no wait of the timeline goes past this many milliseconds

const demo = (narrator: Narrator) =>
  Effect.gen(function*() {
    const say = narrator.say
    const bringg = yield* Emulator.make({
      provider: "bringg",
      clients: [
        { id: "oms", secret: secrets.oms, tokenLifetime: bringgLifetime },
        { id: "wms", secret: secrets.wms, tokenLifetime: bringgLifetime }
      ]
    })
    const dhl = yield* Emulator.make({
      provider: "dhl",
      clients: [{ id: "tracking", secret: secrets.dhl, tokenLifetime: dhlLifetime }]
    })
    for (const secret of Object.values(secrets)) narrator.secrets.add(secret)

    const oms = new DemoApp("bringg-oms", "oms", bringg, "POST /services/create_task", createTask)
    const wms = new DemoApp("bringg-wms", "wms", bringg, "POST /services/create_task", createTask)
    const tracking = new DemoApp("dhl-tracking", "tracking", dhl, "GET /tracking/v4/package", trackPackage)
    const apps = [oms, wms, tracking]
    const bringgApp = (app: DemoApp, secret: string) =>
      build(
        narrator,
        app,
        BringgClient.make({
          baseUrl: bringg.baseUrl,
          clientId: app.clientId,
          clientSecret: Redacted.make(secret),
          name: app.name
        })
      )
    yield* bringgApp(oms, secrets.oms)
    yield* bringgApp(wms, secrets.wms)
    // DHL's default policy refreshes at 37.5 % ± 10 % of the lifetime, a fraction, so it scales to 12-second tokens.
    yield* build(
      narrator,
      tracking,
      DhlEcommerceClient.make({
        environment: "sandbox",
        baseUrl: dhl.baseUrl,
        clientId: tracking.clientId,
        clientSecret: Redacted.make(secrets.dhl),
        name: tracking.name
      })
    )

    yield* say(`Bringg emulator on ${bringg.baseUrl}: tokens live ${secs(Duration.toMillis(bringgLifetime))}`)
    yield* say(`DHL emulator on ${dhl.baseUrl}: tokens live ${secs(Duration.toMillis(dhlLifetime))}`)
    yield* say(
      "bringg-oms, bringg-wms (Bringg, refresh at 50 % ± 10 % of the lifetime) and dhl-tracking (DHL, at 37.5 % ± 10 %)"
    )
    yield* say("each app calls its API every 500 ms; only failed calls and token events are printed")
    // Lets the event narrators subscribe before the first token request.
    yield* Effect.sleep("100 millis")

    const running = yield* Ref.make(true)
    const workers = yield* Effect.forEach(apps, (app) => Effect.fork(worker(narrator, app, running)))
    const tally = (app: DemoApp) =>
      `${app.name} ${app.ok} ok${app.failed > 0 ? `, ${app.failed} failed` : ""}${app.parked ? " (parked)" : ""}`
    const heartbeat = yield* Effect.fork(
      Effect.repeat(
        Effect.suspend(() => say(`·· calls so far: ${apps.map(tally).join(" · ")}`)),
        Schedule.spaced("5 seconds")
      ).pipe(Effect.delay("5 seconds"))
    )

    const act = (title: string) => say(`── ${title}`)
    const sleepUntil = (millis: number) =>
      Effect.flatMap(narrator.elapsed, (now) => Effect.sleep(Duration.millis(Math.max(0, millis - now))))
    const problems: Array<string> = []
    // Polls `condition` until it holds or `timeout` (never past the deadline) runs out; a timeout is reported.
    const waitFor = <E>(what: string, condition: Effect.Effect<boolean, E>, timeout: number) =>
      Effect.gen(function*() {
        const left = Math.min(timeout, deadline - (yield* narrator.elapsed))
        const met = yield* condition.pipe(
          Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("100 millis") }),
          Effect.timeoutOption(Duration.millis(Math.max(0, left))),
          Effect.map(Option.isSome)
        )
        if (!met) {
          problems.push(what)
          yield* say(`✗ gave up waiting for ${what}`)
        }
        return met
      })

    yield* act("1 · steady state: tokens are refreshed in the background before they expire; no call waits")

    // 2. An outage of DHL's token endpoint, once dhl-tracking has refreshed its first token: its next refresh meets it.
    yield* waitFor("dhl-tracking's first refresh", Effect.sync(() => tracking.count("Refreshed") >= 1), 8_000)
    yield* sleepUntil(5_500)
    yield* act(
      `2 · the DHL token endpoint goes down: its next ${outage.times} token requests get 503 with Retry-After: ` +
        `${Duration.toSeconds(outage.retryAfter)}`
    )
    yield* dhl.injectFault(Fault.unavailable(outage.retryAfter), { times: outage.times })

    // 3. A Bringg token revoked on the server. Picked young, so no scheduled refresh replaces it before the next call.
    yield* sleepUntil(9_000)
    let revokedAt = 0
    yield* waitFor(
      "a young bringg-oms token to revoke",
      Effect.gen(function*() {
        const token = yield* oms.current!.manager.get
        const now = yield* Clock.currentTimeMillis
        if (now - token.issuedAt > 2_500) return false
        yield* act(
          `3 · bringg-oms's current token (it prints as ${String(token.value)}) is revoked on the Bringg server`
        )
        revokedAt = now
        return yield* bringg.revokeToken(Redacted.value(token.value))
      }),
      6_000
    )
    yield* waitFor(
      "bringg-oms to recover from the revocation",
      Effect.sync(() => oms.count("Fetched", "invalidated") >= 1 && oms.replays >= 1),
      3_000
    )

    // 4. A DHL token that expires on the server long before its expires_in says, once the outage is over.
    yield* waitFor(
      "the end of the DHL outage",
      Effect.sync(() => tracking.count("Failed") >= outage.times && tracking.count("Refreshed") >= 2),
      12_000
    )
    yield* act(
      `4 · the DHL emulator's next token answer will say expires_in ${claimedLifetime}; the server still expires ` +
        `that token after ${secs(Duration.toMillis(dhlLifetime))}`
    )
    yield* dhl.injectFault(Fault.expiresIn(claimedLifetime))

    // 5. bringg-wms's secret regenerated in Bringg's console: that app fails, typed; the others carry on.
    yield* sleepUntil(14_500)
    yield* act("5 · bringg-wms's client secret is regenerated on the Bringg server (the old one stops working)")
    const newSecret = yield* Effect.orDie(bringg.regenerateSecret(wms.clientId))
    narrator.secrets.add(newSecret)
    yield* waitFor("bringg-wms to fail with InvalidCredentials", Effect.sync(() => wms.parked), 3_000)
    yield* Effect.sleep("3 seconds")
    yield* act("6 · an operator rotates bringg-wms's secret: the app is rebuilt with the new one and resumes")
    const okBeforeRotation = wms.ok
    yield* bringgApp(wms, newSecret)
    wms.parked = false

    // 4, continued: the token with the over-stated lifetime expires on the server.
    yield* waitFor(
      "dhl-tracking to recover from the early expiry",
      Effect.sync(() => tracking.count("Fetched", "invalidated") >= 1 && tracking.replays >= 1),
      25_000
    )
    yield* Effect.sleep("1500 millis")
    yield* Ref.set(running, false)
    yield* Fiber.joinAll(workers)
    yield* Fiber.interrupt(heartbeat)

    // 7. The summary.
    const bringgStats = yield* bringg.stats
    const dhlStats = yield* dhl.stats
    const serverRequests = (app: DemoApp) =>
      (app.emulator === bringg ? bringgStats : dhlStats).tokenRequestsByClient[app.clientId] ?? 0
    const clientRequests = (app: DemoApp) => app.count("Fetched") + app.count("Refreshed") + app.count("Failed")
    yield* act("7 · summary")
    const columns = [13, 9, 13, 24, 8, 10, 7, 12]
    const row = (cells: ReadonlyArray<string | number>) =>
      narrator.plain(
        cells.map((cell, i) => i === 0 ? String(cell).padEnd(columns[i]!) : String(cell).padStart(columns[i]!))
          .join("  ")
      )
    row(["app", "calls ok", "calls failed", "token requests (server)", "fetched", "refreshed", "failed", "invalidated"])
    for (const app of apps) {
      row([
        app.name,
        app.ok,
        app.failed,
        serverRequests(app),
        app.count("Fetched"),
        app.count("Refreshed"),
        app.count("Failed"),
        app.count("Invalidated")
      ])
    }
    narrator.plain(
      `API calls refused with 401 by the servers: Bringg ${bringgStats.resourceRejections}, DHL ${dhlStats.resourceRejections}` +
        `; tokens issued: Bringg ${bringgStats.tokensIssued}, DHL ${dhlStats.tokensIssued}`
    )

    const after = (app: DemoApp, at: number, tag: TokenManager.TokenEvent["_tag"], reason?: TokenManager.FetchReason) =>
      app.seen.some((seen) =>
        seen.at >= at && seen.event._tag === tag && (reason === undefined || ("reason" in seen.event &&
          seen.event.reason === reason))
      )
    const outageFailures = tracking.seen.filter(({ event }) =>
      event._tag === "Failed" && event.error === "TokenEndpointUnavailable" &&
      Option.exists(event.retryIn, Duration.greaterThanOrEqualTo(outage.retryAfter))
    )
    const issued = bringgStats.tokensIssued + dhlStats.tokensIssued
    // Every API request a server received either succeeded or was refused with a 401 that an app saw.
    const served = (emulator: Emulator.Handle, stats: Emulator.Stats) => {
      const mine = apps.filter((app) => app.emulator === emulator)
      const rejections = mine.reduce((sum, app) => sum + app.rejections.length, 0)
      return stats.resourceRejections === rejections &&
        stats.resourceRequests === mine.reduce((sum, app) => sum + app.ok, 0) + rejections
    }
    const sensitive = [...narrator.secrets, ...narrator.tokens]
    const leaks = narrator.transcript.filter((line) => sensitive.some((value) => line.includes(value))).length
    const checks: ReadonlyArray<readonly [string, boolean]> = [
      [
        "1 every app refreshed ahead of expiry; bringg-oms and dhl-tracking never failed a call",
        apps.every((app) => app.count("Refreshed", "scheduled") >= 1) && oms.failed === 0 && tracking.failed === 0
      ],
      [
        `2 the DHL outage: ${outage.times} failed refresh attempts, each retried after the Retry-After, then a refresh`,
        outageFailures.length === outage.times && after(tracking, outageFailures.at(-1)?.at ?? Infinity, "Refreshed")
      ],
      [
        "3 the revoked token: 401, invalidated, one new token, the call replayed and succeeded",
        oms.rejections.length === 1 && oms.count("Invalidated") === 1 && oms.count("Fetched", "invalidated") === 1 &&
        oms.replays === 1 && after(oms, revokedAt, "Invalidated")
      ],
      [
        "4 the early DHL expiry: 401 Access token expired, invalidated, one new token, the call replayed",
        tracking.rejections.length === 1 && tracking.rejections[0] === "Access token expired" &&
        tracking.count("Fetched", "invalidated") === 1 && tracking.replays === 1
      ],
      [
        "5, 6 the regenerated secret: bringg-wms failed with InvalidCredentials only; after the rotation it works again",
        wms.invalidCredentials === 1 && wms.failed === 1 && wms.ok > okBeforeRotation && !wms.parked
      ],
      [
        "7 token requests counted by the servers = token events seen by the apps",
        apps.every((app) => serverRequests(app) === clientRequests(app))
      ],
      [
        "7 API requests counted by the servers = calls ok + 401s seen by the apps (the failed call was refused)",
        served(bringg, bringgStats) && served(dhl, dhlStats)
      ],
      [
        `7 every issued token was seen (${narrator.tokens.size} of ${issued}), and none of them nor any of the ` +
        `${narrator.secrets.size} secrets is in the ${narrator.transcript.length} lines above`,
        narrator.tokens.size === issued && leaks === 0
      ]
    ]
    for (const [what, ok] of checks) narrator.plain(`${ok ? "✓" : "✗"} ${what}`)
    const failed = checks.filter(([, ok]) => !ok).length + problems.length
    if (failed > 0) return yield* Effect.fail(`the demo did not go as narrated: ${failed} check(s) failed`)
    narrator.plain("done: the emulators stop and the managers' background refreshes end with the scope")
  })

const program = Effect.gen(function*() {
  const narrator = new Narrator(yield* Clock.currentTimeMillis)
  // The managers log a failed background refresh at Warning and a caller's failed fetch at Debug; the demo narrates
  // both from `events` and the callers' results, so of the library's log lines it prints only errors (a refresh that
  // died), and every failure appears once.
  const logging = Layer.merge(
    Logger.replace(Logger.defaultLogger, narrator.logger),
    Logger.minimumLogLevel(LogLevel.Error)
  )
  yield* demo(narrator).pipe(Effect.scoped, Effect.provide(logging))
})

// The demo's logger replaces the default one; runMain's pretty logger would print the library's warnings a second time.
NodeRuntime.runMain(program.pipe(Effect.provide(FetchHttpClient.layer)), { disablePrettyLogger: true })

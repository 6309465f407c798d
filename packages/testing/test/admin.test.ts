import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Emulator from "../src/Emulator.js"
import { bearer, forkUntilSleeping, form, getWith, json, postWith, send } from "./utils.js"

const app = { id: "app", secret: "app-secret-9f3k" }
const other = { id: "other", secret: "other-secret-2b7q" }
const credentials = (client: { id: string; secret: string }) => ({
  grant_type: "client_credentials",
  client_id: client.id,
  client_secret: client.secret
})

const tokenOf = (emulator: Emulator.Handle, client = app) =>
  Effect.map(form(emulator.tokenUrl, credentials(client)), (reply) => reply.body.access_token as string)

const api = (emulator: Emulator.Handle, token: string) => postWith(`${emulator.baseUrl}/api/orders`, bearer(token))

const admin = (emulator: Emulator.Handle, path: string, body?: unknown) =>
  body === undefined
    ? postWith(`${emulator.baseUrl}/_emulator${path}`)
    : json(`${emulator.baseUrl}/_emulator${path}`, body)

layer(FetchHttpClient.layer)("admin API", (it) => {
  it.scoped("revokes and expires one client's live tokens, leaving the other client's alone", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "rfc6749", clients: [app, other] })
      const first = yield* tokenOf(emulator)
      const kept = yield* tokenOf(emulator, other)
      const revoke = yield* admin(emulator, "/clients/app/revoke")
      assert.deepStrictEqual([revoke.status, revoke.body], [200, { clientId: "app", revoked: 1 }])
      const refused = yield* api(emulator, first)
      assert.strictEqual(refused.status, 401)
      assert.match(refused.body.error_description, /revoked/)
      assert.strictEqual((yield* api(emulator, kept)).status, 200)

      const second = yield* tokenOf(emulator)
      assert.strictEqual((yield* api(emulator, second)).status, 200)
      const expire = yield* admin(emulator, "/clients/app/expire")
      assert.deepStrictEqual(expire.body, { clientId: "app", expired: 1 }) // the revoked one is not counted
      assert.match((yield* api(emulator, second)).body.error_description, /expired/)
      assert.strictEqual((yield* api(emulator, kept)).status, 200)

      const unknown = yield* admin(emulator, "/clients/ghost/revoke")
      assert.strictEqual(unknown.status, 404)
      const stats = yield* getWith(`${emulator.baseUrl}/_emulator/stats`)
      assert.strictEqual(stats.body.tokensIssued, 3)
      assert.strictEqual(stats.body.resourceRejections, 2)
    }))

  it.scoped("regenerates a secret: chosen or random; the old secret stops working", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "dhl", clients: [app] })
      const token = yield* tokenOf(emulator)
      const chosen = yield* admin(emulator, "/clients/app/secret", { secret: "chosen-secret" })
      assert.deepStrictEqual(chosen.body, { clientId: "app", secret: "chosen-secret" })
      assert.strictEqual((yield* form(emulator.tokenUrl, credentials(app))).body.title, "Invalid credentials")
      assert.strictEqual((yield* postWith(`${emulator.baseUrl}/shipping/v4/label`, bearer(token))).status, 401)
      assert.strictEqual((yield* tokenOf(emulator, { id: "app", secret: "chosen-secret" })).length > 0, true)
      const random = yield* admin(emulator, "/clients/app/secret")
      assert.strictEqual(random.status, 200)
      assert.notStrictEqual(random.body.secret, "chosen-secret")
      assert.strictEqual((yield* admin(emulator, "/clients/app/secret", { secret: 42 })).status, 400)
    }))

  it.scoped("queues faults from JSON: status with Retry-After, reset, malformed body, revoked token; DELETE clears", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [app] })
      const queued = yield* admin(emulator, "/faults", { type: "status", status: 503, retryAfter: 2, times: 2 })
      assert.strictEqual(queued.status, 201)
      for (let i = 0; i < 2; i++) {
        const reply = yield* form(emulator.tokenUrl, credentials(app))
        assert.deepStrictEqual([reply.status, reply.headers["retry-after"]], [503, "2"])
      }
      yield* admin(emulator, "/faults", { type: "reset" })
      const reset = yield* Effect.either(form(emulator.tokenUrl, credentials(app)))
      assert.strictEqual(reset._tag, "Left")
      yield* admin(emulator, "/faults", { type: "malformed" })
      const malformed = yield* form(emulator.tokenUrl, credentials(app))
      assert.deepStrictEqual([malformed.status, malformed.body], [200, undefined])
      yield* admin(emulator, "/faults", { type: "revoked" })
      const revoked = yield* tokenOf(emulator)
      assert.strictEqual((yield* postWith(`${emulator.baseUrl}/services/x`, bearer(revoked))).status, 401)
      yield* admin(emulator, "/faults", { type: "status", status: 500, times: "always" })
      const cleared = yield* send(HttpClientRequest.del(`${emulator.baseUrl}/_emulator/faults`))
      assert.strictEqual(cleared.status, 200)
      assert.strictEqual((yield* form(emulator.tokenUrl, credentials(app))).status, 200)
      const invalid = yield* admin(emulator, "/faults", { type: "status", status: 42 })
      assert.strictEqual(invalid.status, 400)
      assert.match(invalid.body.error, /status/)
    }))

  it.scoped("latency from JSON delays the answer on the emulator's Clock", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "rfc6749", clients: [app] })
      assert.strictEqual((yield* admin(emulator, "/faults", { type: "latency", seconds: 30 })).status, 201)
      const fiber = yield* forkUntilSleeping(form(emulator.tokenUrl, credentials(app)))
      yield* TestClock.adjust("29 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(fiber)).status, 200)
    }))

  it.scoped("logs one line per request with tokens by serial number, never a secret or a token", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make(({ message }) => lines.push(String(message)))
      const emulator = yield* Emulator.make({ provider: "rfc6749", clients: [app], logRequests: true }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      const token = yield* tokenOf(emulator)
      yield* api(emulator, token)
      yield* admin(emulator, "/clients/app/revoke")
      yield* api(emulator, token)
      yield* admin(emulator, "/clients/app/secret", { secret: "rotated-secret" })
      assert.deepStrictEqual(lines, [
        "POST /oauth/token client=app auth=post body=form → 200 token #1 issued, lives 3600 s",
        "POST /api/orders token #1 of app → 200",
        "POST /_emulator/clients/app/revoke → 200",
        "POST /api/orders token #1 of app → 401 (revoked)",
        "POST /_emulator/clients/app/secret → 200"
      ])
      for (const line of lines) {
        for (const secret of [token, app.secret, "rotated-secret"]) assert.notInclude(line, secret)
      }
    }))
})

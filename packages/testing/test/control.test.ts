import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Emulator from "../src/Emulator.js"
import * as Fault from "../src/Fault.js"
import { basic, bearer, forkUntilSleeping, form, json, multipart, postWith } from "./utils.js"

const oms = { id: "oms-app", secret: "oms-secret-1234" }
const wms = { id: "wms-app", secret: "wms-secret-5678" }
const credentials = (client: { id: string; secret: string }) => ({
  grant_type: "client_credentials",
  client_id: client.id,
  client_secret: client.secret
})

const tokenFor = (emulator: Emulator.Handle, client: { id: string; secret: string }) =>
  Effect.map(multipart(emulator.tokenUrl, credentials(client)), (reply) => reply.body.access_token as string)

const callService = (emulator: Emulator.Handle, token: string) =>
  postWith(`${emulator.baseUrl}/services/create_order`, bearer(token))

layer(FetchHttpClient.layer)("control handle", (it) => {
  it.scoped("regenerating a secret disables the old secret and the tokens issued with it (Bringg seed)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [oms, wms] })
      const oldToken = yield* tokenFor(emulator, oms)
      const otherToken = yield* tokenFor(emulator, wms)
      const newSecret = yield* emulator.regenerateSecret(oms.id)
      assert.notStrictEqual(newSecret, oms.secret)
      const oldSecret = yield* multipart(emulator.tokenUrl, credentials(oms))
      assert.strictEqual(oldSecret.status, 401)
      assert.strictEqual(oldSecret.body.error, "invalid_client")
      const rejected = yield* callService(emulator, oldToken)
      assert.strictEqual(rejected.status, 401)
      assert.match(rejected.body.error_description, /disabled/)
      assert.strictEqual((yield* callService(emulator, otherToken)).status, 200)
      const newToken = yield* tokenFor(emulator, { id: oms.id, secret: newSecret })
      assert.strictEqual((yield* callService(emulator, newToken)).status, 200)
      const chosen = yield* emulator.regenerateSecret(oms.id, "chosen-secret")
      assert.strictEqual(chosen, "chosen-secret")
      assert.strictEqual(
        (yield* form(emulator.tokenUrl, { grant_type: "client_credentials" }, basic(oms.id, chosen))).status,
        200
      )
      const unknown = yield* Effect.flip(emulator.regenerateSecret("ghost"))
      assert.strictEqual(unknown._tag, "UnknownClient")
      assert.strictEqual(unknown.clientId, "ghost")
    }))

  it.scoped("DHL rejects a token disabled by a new secret as Invalid access token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "dhl", clients: [oms] })
      const token = (yield* form(emulator.tokenUrl, credentials(oms))).body.access_token as string
      yield* emulator.regenerateSecret(oms.id)
      const reply = yield* postWith(`${emulator.baseUrl}/shipping/v4/label`, bearer(token))
      assert.strictEqual(reply.status, 401)
      assert.strictEqual(reply.body.title, "Invalid access token")
      assert.strictEqual((yield* form(emulator.tokenUrl, credentials(oms))).body.title, "Invalid credentials")
    }))

  it.scoped("revokeToken rejects that token only", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [oms] })
      const first = yield* tokenFor(emulator, oms)
      const second = yield* tokenFor(emulator, oms)
      assert.isTrue(yield* emulator.revokeToken(first))
      assert.isFalse(yield* emulator.revokeToken("never-issued"))
      const revoked = yield* callService(emulator, first)
      assert.strictEqual(revoked.status, 401)
      assert.match(revoked.body.error_description, /revoked/)
      assert.strictEqual((yield* callService(emulator, second)).status, 200)
    }))

  it.scoped("one token per client: a new token revokes the client's previous one, not other clients'", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [oms, wms], oneTokenPerClient: true })
      const first = yield* tokenFor(emulator, oms)
      const other = yield* tokenFor(emulator, wms)
      const second = yield* tokenFor(emulator, oms)
      assert.strictEqual((yield* callService(emulator, first)).status, 401)
      assert.strictEqual((yield* callService(emulator, second)).status, 200)
      assert.strictEqual((yield* callService(emulator, other)).status, 200)
      yield* emulator.setOneTokenPerClient(false)
      const third = yield* tokenFor(emulator, oms)
      assert.strictEqual((yield* callService(emulator, second)).status, 200)
      assert.strictEqual((yield* callService(emulator, third)).status, 200)
      yield* emulator.setOneTokenPerClient(true)
      yield* tokenFor(emulator, oms)
      assert.strictEqual((yield* callService(emulator, third)).status, 401)
    }))

  it.scoped("registers clients at runtime; re-registering an id disables its old tokens", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "rfc6749" })
      assert.strictEqual((yield* form(emulator.tokenUrl, credentials(oms))).status, 401)
      yield* emulator.registerClient({ ...oms, scopes: ["read"], tokenLifetime: "90 seconds" })
      const reply = yield* form(emulator.tokenUrl, credentials(oms))
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.body.expires_in, 90)
      assert.strictEqual(reply.body.scope, "read")
      const api = `${emulator.baseUrl}/api/orders`
      assert.strictEqual((yield* postWith(api, bearer(reply.body.access_token))).status, 200)
      yield* emulator.registerClient({ ...oms, secret: "replaced" })
      assert.strictEqual((yield* postWith(api, bearer(reply.body.access_token))).status, 401)
    }))

  it.scoped("the emulator-wide tokenLifetime applies unless the client or a Bringg ttl overrides it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        provider: "bringg",
        tokenLifetime: "30 minutes",
        clients: [oms, { ...wms, tokenLifetime: "4 hours" }]
      })
      const lifetimes = [
        (yield* multipart(emulator.tokenUrl, credentials(oms))).body.expires_in,
        (yield* multipart(emulator.tokenUrl, credentials(wms))).body.expires_in,
        (yield* multipart(emulator.tokenUrl, { ...credentials(wms), ttl: "45" })).body.expires_in
      ]
      assert.deepStrictEqual(lifetimes, [1800, 14400, 45])
    }))

  it.scoped("counts token requests per client and resets counters and the log", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [oms, wms] })
      const token = yield* tokenFor(emulator, oms)
      yield* tokenFor(emulator, oms)
      yield* multipart(emulator.tokenUrl, { ...credentials(wms), client_secret: "wrong" })
      yield* multipart(emulator.tokenUrl, { grant_type: "client_credentials" })
      yield* callService(emulator, token)
      yield* callService(emulator, "forged")
      assert.deepStrictEqual(yield* emulator.stats, {
        tokenRequests: 4,
        tokenRequestsByClient: { [oms.id]: 2, [wms.id]: 1 },
        tokensIssued: 2,
        resourceRequests: 2,
        resourceRejections: 1
      })
      assert.strictEqual((yield* emulator.requests).length, 4)
      yield* emulator.reset
      assert.deepStrictEqual(yield* emulator.stats, {
        tokenRequests: 0,
        tokenRequestsByClient: {},
        tokensIssued: 0,
        resourceRequests: 0,
        resourceRejections: 0
      })
      assert.strictEqual((yield* emulator.requests).length, 0)
      assert.strictEqual((yield* callService(emulator, token)).status, 200)
    }))

  it.scoped("the request log masks secrets in every encoding and never holds the Basic header", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [oms] })
      yield* multipart(emulator.tokenUrl, credentials(oms))
      yield* form(emulator.tokenUrl, credentials(oms))
      yield* json(emulator.tokenUrl, { ...credentials(oms), client_assertion: "assertion-value" })
      yield* form(emulator.tokenUrl, { grant_type: "client_credentials" }, basic(oms.id, oms.secret))
      const log = yield* emulator.requests
      assert.strictEqual(log.length, 4)
      const dump = JSON.stringify(log)
      assert.notInclude(dump, oms.secret)
      assert.notInclude(dump, "assertion-value")
      assert.notInclude(dump, Buffer.from(`${oms.id}:${oms.secret}`).toString("base64"))
      assert.deepStrictEqual(log.map((r) => r.fields["client_secret"]), ["***", "***", "***", undefined])
      assert.deepStrictEqual(log.map((r) => r.clientId), [oms.id, oms.id, oms.id, oms.id])
      assert.deepStrictEqual(log.map((r) => r.authMethod), ["post", "post", "post", "basic"])
    }))

  it.scoped("closing the scope stops the server, even with a request held by latency", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [oms] }).pipe(Scope.extend(scope))
      yield* emulator.injectFault(Fault.latency("1 hour"))
      const pending = yield* forkUntilSleeping(multipart(emulator.tokenUrl, credentials(oms)))
      yield* Scope.close(scope, Exit.void)
      const held = yield* Fiber.await(pending)
      assert.isTrue(Exit.isFailure(held))
      const after = yield* Effect.exit(multipart(emulator.tokenUrl, credentials(oms)))
      assert.isTrue(Exit.isFailure(after))
    }))
})

describe("Emulator.layer", () => {
  const emulatorLayer = Emulator.layer({ provider: "dhl", clients: [oms] })

  layer(Layer.merge(emulatorLayer, FetchHttpClient.layer))((it) => {
    it.effect("provides a running emulator as a service", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        assert.strictEqual(emulator.provider, "dhl")
        const reply = yield* form(emulator.tokenUrl, credentials(oms))
        assert.strictEqual(reply.status, 200)
        assert.strictEqual(reply.body.client_id, oms.id)
      }))

    it.effect("follows the TestClock of the test environment it was built in", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const token = (yield* form(emulator.tokenUrl, credentials(oms))).body.access_token as string
        const label = `${emulator.baseUrl}/shipping/v4/label`
        assert.strictEqual((yield* postWith(label, bearer(token))).status, 200)
        yield* TestClock.adjust("1 hour")
        assert.strictEqual((yield* postWith(label, bearer(token))).body.title, "Access token expired")
      }))
  })

  it.scoped("two emulators run side by side on distinct origins", () =>
    Effect.gen(function*() {
      const bringg = yield* Emulator.make({ provider: "bringg", clients: [oms] })
      const dhl = yield* Emulator.make({ provider: "dhl", clients: [oms] })
      assert.notStrictEqual(bringg.baseUrl, dhl.baseUrl)
      assert.strictEqual((yield* multipart(bringg.tokenUrl, credentials(oms))).status, 200)
      assert.strictEqual((yield* form(dhl.tokenUrl, credentials(oms))).status, 200)
      assert.strictEqual((yield* bringg.stats).tokenRequests, 1)
      assert.strictEqual((yield* dhl.stats).tokenRequests, 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("serve runs until interrupted and logs its base URL, token URL and client ids", () =>
    Effect.gen(function*() {
      const lines: Array<{ readonly message: string; readonly annotations: Record<string, unknown> }> = []
      const capture = Logger.make(({ annotations, message }) => {
        lines.push({
          message: Array.isArray(message) ? message.join(" ") : String(message),
          annotations: Object.fromEntries(HashMap.toEntries(annotations))
        })
      })
      const server = yield* Effect.fork(
        Emulator.serve({ provider: "rfc6749", clients: [oms, wms] }).pipe(Effect.provide(Logger.add(capture)))
      )
      while (lines.length === 0) yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      const [line] = lines
      const baseUrl = line?.message.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0]
      assert.isString(baseUrl)
      assert.strictEqual(line?.annotations["tokenUrl"], `${baseUrl}/oauth/token`)
      assert.strictEqual(line?.annotations["clients"], "oms-app, wms-app")
      assert.strictEqual((yield* form(`${baseUrl}/oauth/token`, credentials(oms))).status, 200)
      yield* Fiber.interrupt(server)
      assert.isTrue(Exit.isFailure(yield* Effect.exit(form(`${baseUrl}/oauth/token`, credentials(oms)))))
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

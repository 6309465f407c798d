import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as Emulator from "../src/Emulator.js"
import { basic, bearer, form, getWith, json, multipart, postWith } from "./utils.js"

const client = { id: "G8PaGaNdIg5CS5q5mAibmJ9jywTFiO97", secret: "dhl-secret" }
const credentials = { grant_type: "client_credentials", client_id: client.id, client_secret: client.secret }
const dhl = Emulator.make({ provider: "dhl", clients: [client] })

const problemType = (baseUrl: string, code: string) => `${baseUrl}/docs/errors/${code}`

layer(FetchHttpClient.layer)("DHL eCommerce Americas flavor", (it) => {
  it.scoped("issues a token for the seed's urlencoded request, with client_id and a 3600 s lifetime", () =>
    Effect.gen(function*() {
      const emulator = yield* dhl
      assert.strictEqual(emulator.tokenUrl, `${emulator.baseUrl}/auth/v4/accesstoken`)
      const reply = yield* form(emulator.tokenUrl, credentials)
      assert.strictEqual(reply.status, 200)
      assert.deepStrictEqual(Object.keys(reply.body).sort(), ["access_token", "client_id", "expires_in", "token_type"])
      assert.strictEqual(reply.body.client_id, client.id)
      assert.strictEqual(reply.body.token_type, "Bearer")
      assert.strictEqual(reply.body.expires_in, 3600)
      const [logged] = yield* emulator.requests
      assert.strictEqual(logged?.encoding, "form")
      assert.strictEqual(logged?.authMethod, "post")
    }))

  it.scoped("rejects JSON, multipart and Basic-only requests with an Invalid request problem", () =>
    Effect.gen(function*() {
      const emulator = yield* dhl
      const asJson = yield* json(emulator.tokenUrl, credentials)
      assert.strictEqual(asJson.status, 400)
      assert.match(asJson.headers["content-type"] ?? "", /^application\/problem\+json/)
      assert.strictEqual(asJson.body.title, "Invalid request")
      assert.strictEqual(asJson.body.type, problemType(emulator.baseUrl, "400.0000001"))
      assert.deepStrictEqual(asJson.body.invalidParams.map((p: { name: string }) => p.name), ["Content-Type"])
      const asMultipart = yield* multipart(emulator.tokenUrl, credentials)
      assert.strictEqual(asMultipart.status, 400)
      assert.strictEqual(asMultipart.body.title, "Invalid request")
      const basicOnly = yield* form(
        emulator.tokenUrl,
        { grant_type: "client_credentials" },
        basic(client.id, client.secret)
      )
      assert.strictEqual(basicOnly.status, 400)
      assert.deepStrictEqual(basicOnly.body.invalidParams.map((p: { name: string }) => p.name), [
        "client_id",
        "client_secret"
      ])
      const noGrant = yield* form(emulator.tokenUrl, { client_id: client.id, client_secret: client.secret })
      assert.deepStrictEqual(noGrant.body.invalidParams, [{ name: "grant_type", reason: "is required" }])
      const otherGrant = yield* form(emulator.tokenUrl, { ...credentials, grant_type: "password" })
      assert.strictEqual(otherGrant.status, 400)
      assert.strictEqual(otherGrant.body.invalidParams[0].name, "grant_type")
      assert.strictEqual((yield* emulator.stats).tokensIssued, 0)
    }))

  it.scoped("answers bad credentials with the seed's problem body (400.0000005)", () =>
    Effect.gen(function*() {
      const emulator = yield* dhl
      const reply = yield* form(emulator.tokenUrl, { ...credentials, client_secret: "wrong" })
      assert.strictEqual(reply.status, 400)
      assert.match(reply.headers["content-type"] ?? "", /^application\/problem\+json/)
      assert.deepStrictEqual(reply.body, {
        type: problemType(emulator.baseUrl, "400.0000005"),
        title: "Invalid credentials"
      })
    }))

  it.scoped("can answer bad credentials with 401 (401.0000007) as another public sample does", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        provider: "dhl",
        clients: [client],
        dhl: { invalidCredentialsStatus: 401 }
      })
      const reply = yield* form(emulator.tokenUrl, { ...credentials, client_id: "unknown" })
      assert.strictEqual(reply.status, 401)
      assert.deepStrictEqual(reply.body, {
        type: problemType(emulator.baseUrl, "401.0000007"),
        title: "Invalid credentials"
      })
    }))

  it.scoped("guards every other path with the token: Invalid access token, then Access token expired at 60 min", () =>
    Effect.gen(function*() {
      const emulator = yield* dhl
      const token = (yield* form(emulator.tokenUrl, credentials)).body.access_token as string
      const label = `${emulator.baseUrl}/shipping/v4/label`
      const ok = yield* postWith(label, bearer(token))
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(ok.body, {
        success: true,
        path: "/shipping/v4/label",
        method: "POST",
        client_id: client.id
      })
      const tracking = yield* getWith(`${emulator.baseUrl}/tracking/v4/package?trackingId=1`, bearer(token))
      assert.strictEqual(tracking.status, 200)
      assert.strictEqual(tracking.body.path, "/tracking/v4/package")
      const anonymous = yield* getWith(label)
      assert.strictEqual(anonymous.status, 401)
      assert.strictEqual(anonymous.body.title, "Invalid access token")
      const forged = yield* getWith(label, bearer("OGH0T5hPVJ2oL0DYhRfYJgJMJYhC"))
      assert.deepStrictEqual(forged.body, {
        type: problemType(emulator.baseUrl, "401.0000001"),
        title: "Invalid access token"
      })
      yield* TestClock.adjust("59 minutes")
      assert.strictEqual((yield* getWith(label, bearer(token))).status, 200)
      yield* TestClock.adjust("1 minute")
      const expired = yield* getWith(label, bearer(token))
      assert.strictEqual(expired.status, 401)
      assert.match(expired.headers["content-type"] ?? "", /^application\/problem\+json/)
      assert.deepStrictEqual(expired.body, {
        type: problemType(emulator.baseUrl, "401.0000002"),
        title: "Access token expired"
      })
      const stats = yield* emulator.stats
      assert.strictEqual(stats.resourceRequests, 6)
      assert.strictEqual(stats.resourceRejections, 3)
    }))

  it.scoped("rejects GET on the token endpoint with a 405 problem", () =>
    Effect.gen(function*() {
      const emulator = yield* dhl
      const reply = yield* getWith(emulator.tokenUrl)
      assert.strictEqual(reply.status, 405)
      assert.strictEqual(reply.body.title, "Method not allowed")
    }))
})

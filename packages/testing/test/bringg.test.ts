import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as Emulator from "../src/Emulator.js"
import { basic, bearer, form, getWith, json, multipart, postWith } from "./utils.js"

const client = { id: "oms-app", secret: "s3cr3t-value" }
const grant = { grant_type: "client_credentials" }
const bodyCredentials = { ...grant, client_id: client.id, client_secret: client.secret }
const bringg = Emulator.make({ provider: "bringg", clients: [client] })

layer(FetchHttpClient.layer)("Bringg flavor", (it) => {
  it.scoped("issues a token for a multipart body (the seed's curl -F) with created_at from the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1700000000 seconds")
      const emulator = yield* bringg
      assert.strictEqual(emulator.tokenUrl, `${emulator.baseUrl}/oauth/token`)
      assert.match(emulator.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      const reply = yield* multipart(emulator.tokenUrl, bodyCredentials)
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"] ?? "", /^application\/json/)
      assert.strictEqual(reply.headers["cache-control"], "no-store")
      assert.deepStrictEqual(Object.keys(reply.body).sort(), ["access_token", "created_at", "expires_in", "token_type"])
      assert.isString(reply.body.access_token)
      assert.isAbove(reply.body.access_token.length, 20)
      assert.strictEqual(reply.body.token_type, "Bearer")
      assert.strictEqual(reply.body.expires_in, 3600)
      assert.strictEqual(reply.body.created_at, 1_700_000_000)
      const [logged] = yield* emulator.requests
      assert.strictEqual(logged?.encoding, "multipart")
      assert.strictEqual(logged?.authMethod, "post")
      assert.strictEqual(logged?.clientId, client.id)
      assert.strictEqual(logged?.grantType, "client_credentials")
      assert.strictEqual(logged?.status, 200)
    }))

  it.scoped("accepts urlencoded and JSON bodies, and honours ttl in both", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      const urlencoded = yield* form(emulator.tokenUrl, { ...bodyCredentials, ttl: "60" })
      assert.strictEqual(urlencoded.status, 200)
      assert.strictEqual(urlencoded.body.expires_in, 60)
      const asJson = yield* json(emulator.tokenUrl, { ...bodyCredentials, ttl: 120 })
      assert.strictEqual(asJson.status, 200)
      assert.strictEqual(asJson.body.expires_in, 120)
      const log = yield* emulator.requests
      assert.deepStrictEqual(log.map((r) => [r.encoding, r.ttl]), [["form", "60"], ["json", "120"]])
    }))

  it.scoped("accepts Basic credentials, RFC 6749 §2.3.1 encoded or plain", () =>
    Effect.gen(function*() {
      const tricky = { id: "wms:app", secret: "p@ss word+/=%" }
      const plainable = { id: "billing", secret: "a+b%zz" }
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [tricky, plainable] })
      const encoded = yield* form(emulator.tokenUrl, grant, basic(tricky.id, tricky.secret))
      assert.strictEqual(encoded.status, 200)
      const plain = yield* multipart(emulator.tokenUrl, grant, basic(plainable.id, plainable.secret, true))
      assert.strictEqual(plain.status, 200)
      const log = yield* emulator.requests
      assert.deepStrictEqual(log.map((r) => [r.authMethod, r.clientId]), [["basic", "wms:app"], ["basic", "billing"]])
    }))

  it.scoped("accepts the seed's header plus body credentials, but not when they name different clients", () =>
    Effect.gen(function*() {
      const other = { id: "other", secret: "other-secret" }
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [client, other] })
      const both = yield* multipart(emulator.tokenUrl, bodyCredentials, basic(client.id, client.secret))
      assert.strictEqual(both.status, 200)
      const mismatch = yield* multipart(emulator.tokenUrl, bodyCredentials, basic(other.id, other.secret))
      assert.strictEqual(mismatch.status, 401)
      assert.strictEqual(mismatch.body.error, "invalid_client")
      assert.strictEqual((yield* emulator.requests)[0]?.authMethod, "basic+post")
    }))

  it.scoped("answers RFC 6749 §5.2 errors", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        provider: "bringg",
        clients: [client, { id: "no-grant", secret: "x", grantTypes: [] }]
      })
      const url = emulator.tokenUrl
      const wrongSecret = yield* multipart(url, { ...bodyCredentials, client_secret: "nope" })
      assert.strictEqual(wrongSecret.status, 401)
      assert.strictEqual(wrongSecret.body.error, "invalid_client")
      assert.isString(wrongSecret.body.error_description)
      assert.isUndefined(wrongSecret.headers["www-authenticate"])
      const wrongBasic = yield* form(url, grant, basic(client.id, "nope"))
      assert.strictEqual(wrongBasic.status, 401)
      assert.strictEqual(wrongBasic.body.error, "invalid_client")
      assert.match(wrongBasic.headers["www-authenticate"] ?? "", /^Basic /)
      const unknown = yield* multipart(url, { ...bodyCredentials, client_id: "ghost" })
      assert.strictEqual(unknown.body.error, "invalid_client")
      const anonymous = yield* multipart(url, grant)
      assert.strictEqual(anonymous.status, 401)
      const noGrant = yield* multipart(url, { client_id: client.id, client_secret: client.secret })
      assert.deepStrictEqual([noGrant.status, noGrant.body.error], [400, "invalid_request"])
      const password = yield* multipart(url, { ...bodyCredentials, grant_type: "password" })
      assert.deepStrictEqual([password.status, password.body.error], [400, "unsupported_grant_type"])
      const badTtl = yield* multipart(url, { ...bodyCredentials, ttl: "soon" })
      assert.deepStrictEqual([badTtl.status, badTtl.body.error], [400, "invalid_request"])
      const unauthorized = yield* multipart(url, { ...grant, client_id: "no-grant", client_secret: "x" })
      assert.deepStrictEqual([unauthorized.status, unauthorized.body.error], [400, "unauthorized_client"])
      const empty = yield* form(url, {})
      assert.deepStrictEqual([empty.status, empty.body.error], [400, "invalid_request"])
      const badJson = yield* json(url, "not an object")
      assert.deepStrictEqual([badJson.status, badJson.body.error], [400, "invalid_request"])
      const stats = yield* emulator.stats
      assert.strictEqual(stats.tokenRequests, 10)
      assert.strictEqual(stats.tokensIssued, 0)
    }))

  it.scoped("rejects non-POST on the token endpoint and unknown paths", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      const get = yield* getWith(emulator.tokenUrl)
      assert.strictEqual(get.status, 405)
      assert.strictEqual(get.headers["allow"], "POST")
      const missing = yield* getWith(`${emulator.baseUrl}/nowhere`)
      assert.strictEqual(missing.status, 404)
    }))

  it.scoped("guards /services/<name> with the Bearer token and counts resource calls", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      const token = (yield* multipart(emulator.tokenUrl, bodyCredentials)).body.access_token as string
      const service = `${emulator.baseUrl}/services/create_order`
      const ok = yield* postWith(service, bearer(token))
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(ok.body, { success: true, service: "create_order", method: "POST", client_id: client.id })
      const read = yield* getWith(`${emulator.baseUrl}/services/get_order`, bearer(token))
      assert.strictEqual(read.body.service, "get_order")
      const anonymous = yield* postWith(service)
      assert.strictEqual(anonymous.status, 401)
      assert.match(anonymous.headers["www-authenticate"] ?? "", /^Bearer .*error="invalid_token"/)
      assert.strictEqual(anonymous.body.error, "invalid_token")
      const forged = yield* postWith(service, bearer("forged"))
      assert.strictEqual(forged.status, 401)
      const stats = yield* emulator.stats
      assert.strictEqual(stats.resourceRequests, 4)
      assert.strictEqual(stats.resourceRejections, 2)
    }))

  it.scoped("expires tokens by the emulator's Clock: TestClock.adjust past expires_in gives 401", () =>
    Effect.gen(function*() {
      const emulator = yield* bringg
      const token = (yield* multipart(emulator.tokenUrl, { ...bodyCredentials, ttl: "60" })).body.access_token
      const service = `${emulator.baseUrl}/services/create_order`
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual((yield* postWith(service, bearer(token))).status, 200)
      yield* TestClock.adjust("1 second")
      const expired = yield* postWith(service, bearer(token))
      assert.strictEqual(expired.status, 401)
      assert.match(expired.body.error_description, /expired/)
      const fresh = (yield* multipart(emulator.tokenUrl, bodyCredentials)).body.access_token
      assert.strictEqual((yield* postWith(service, bearer(fresh))).status, 200)
    }))
})

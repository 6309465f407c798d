import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Emulator from "../src/Emulator.js"
import { basic, bearer, form, getWith, json, multipart } from "./utils.js"

const client = { id: "svc-client", secret: "svc secret+/%", scopes: ["orders:read", "orders:write"] }
const grant = { grant_type: "client_credentials" }
const post = { ...grant, client_id: client.id, client_secret: client.secret }
const rfc = Emulator.make({
  provider: "rfc6749",
  clients: [client, { id: "code-only", secret: "x", grantTypes: ["authorization_code"] }]
})

layer(FetchHttpClient.layer)("RFC 6749 flavor", (it) => {
  it.scoped("client_secret_basic (§2.3.1 encoded or plain) grants the registered scopes by default", () =>
    Effect.gen(function*() {
      const emulator = yield* rfc
      const encoded = yield* form(emulator.tokenUrl, grant, basic(client.id, client.secret))
      assert.strictEqual(encoded.status, 200)
      assert.strictEqual(encoded.body.token_type, "Bearer")
      assert.strictEqual(encoded.body.expires_in, 3600)
      assert.strictEqual(encoded.body.scope, "orders:read orders:write")
      const plain = yield* form(emulator.tokenUrl, grant, basic(client.id, client.secret, true))
      assert.strictEqual(plain.status, 200)
      const log = yield* emulator.requests
      assert.deepStrictEqual(log.map((r) => r.authMethod), ["basic", "basic"])
    }))

  it.scoped("client_secret_post in a form or JSON body", () =>
    Effect.gen(function*() {
      const emulator = yield* rfc
      const asForm = yield* form(emulator.tokenUrl, post)
      assert.strictEqual(asForm.status, 200)
      const asJson = yield* json(emulator.tokenUrl, post)
      assert.strictEqual(asJson.status, 200)
      const log = yield* emulator.requests
      assert.deepStrictEqual(log.map((r) => [r.encoding, r.authMethod]), [["form", "post"], ["json", "post"]])
    }))

  it.scoped("checks the requested scope against the client's scopes", () =>
    Effect.gen(function*() {
      const emulator = yield* rfc
      const subset = yield* form(emulator.tokenUrl, { ...post, scope: "orders:read" })
      assert.strictEqual(subset.body.scope, "orders:read")
      const token = subset.body.access_token as string
      const resource = yield* getWith(`${emulator.baseUrl}/api/orders`, bearer(token))
      assert.strictEqual(resource.status, 200)
      assert.strictEqual(resource.body.scope, "orders:read")
      assert.strictEqual(resource.body.client_id, client.id)
      const tooMuch = yield* form(emulator.tokenUrl, { ...post, scope: "orders:read admin" })
      assert.strictEqual(tooMuch.status, 400)
      assert.strictEqual(tooMuch.body.error, "invalid_scope")
      assert.strictEqual((yield* emulator.requests)[1]?.scope, "orders:read admin")
    }))

  it.scoped("answers §5.2 errors", () =>
    Effect.gen(function*() {
      const emulator = yield* rfc
      const url = emulator.tokenUrl
      const basicFailure = yield* form(url, grant, basic(client.id, "wrong"))
      assert.strictEqual(basicFailure.status, 401)
      assert.strictEqual(basicFailure.body.error, "invalid_client")
      assert.match(basicFailure.headers["www-authenticate"] ?? "", /^Basic realm=/)
      const postFailure = yield* form(url, { ...post, client_secret: "wrong" })
      assert.strictEqual(postFailure.status, 401)
      assert.isUndefined(postFailure.headers["www-authenticate"])
      const twoMethods = yield* form(url, post, basic(client.id, client.secret))
      assert.deepStrictEqual([twoMethods.status, twoMethods.body.error], [400, "invalid_request"])
      const missingGrant = yield* form(url, { client_id: client.id, client_secret: client.secret })
      assert.deepStrictEqual([missingGrant.status, missingGrant.body.error], [400, "invalid_request"])
      const otherGrant = yield* form(url, { ...post, grant_type: "password" })
      assert.deepStrictEqual([otherGrant.status, otherGrant.body.error], [400, "unsupported_grant_type"])
      const codeOnly = yield* form(url, grant, basic("code-only", "x"))
      assert.deepStrictEqual([codeOnly.status, codeOnly.body.error], [400, "unauthorized_client"])
      const asMultipart = yield* multipart(url, post)
      assert.deepStrictEqual([asMultipart.status, asMultipart.body.error], [400, "invalid_request"])
      assert.strictEqual((yield* emulator.stats).tokensIssued, 0)
    }))

  it.scoped("guards /api/* with the Bearer token", () =>
    Effect.gen(function*() {
      const emulator = yield* rfc
      const anonymous = yield* getWith(`${emulator.baseUrl}/api/orders`)
      assert.strictEqual(anonymous.status, 401)
      assert.match(anonymous.headers["www-authenticate"] ?? "", /^Bearer /)
      const outside = yield* getWith(`${emulator.baseUrl}/orders`)
      assert.strictEqual(outside.status, 404)
    }))
})

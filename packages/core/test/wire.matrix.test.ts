/**
 * Every HttpClient layer the README promises × every body encoding × every client authentication, over real sockets:
 * what the token endpoint received byte for byte, and an authorized API call end to end against the emulator.
 */
import { Emulator } from "@effect-oauth/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as AuthorizedClient from "../src/AuthorizedClient.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as TokenManager from "../src/TokenManager.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"

// Every character class that encodings treat differently: space, +, :, /, non-ASCII, a quote and a backslash.
const SECRET = "a b+c:d/é\"\\"
const CLIENT_ID = "client-1"
const TOKEN = "tok_wire_matrix_0123456789"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["NodeHttpClient.layer", NodeHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["FetchHttpClient.layer", FetchHttpClient.layer]
]
const encodings: ReadonlyArray<TokenEndpoint.Encoding> = ["form", "multipart", "json"]
const authMethods: ReadonlyArray<TokenEndpoint.AuthMethod> = [
  "client_secret_basic",
  "client_secret_basic_plain",
  "client_secret_post"
]

const contentTypes: Record<TokenEndpoint.Encoding, RegExp> = {
  form: /^application\/x-www-form-urlencoded(;|$)/,
  multipart: /^multipart\/form-data; boundary=[0-9A-Za-z'()+_,\-./:=?]{1,70}$/,
  json: /^application\/json(;|$)/
}

/** The body fields as the server reads them, decoded by the platform's own parsers (not the client's code). */
const fieldsOf = (request: HttpTestServer.RecordedRequest) =>
  Effect.promise(async (): Promise<Record<string, string>> => {
    const contentType = request.headers["content-type"] ?? ""
    if (contentType.startsWith("application/json")) return JSON.parse(request.body)
    if (contentType.startsWith("multipart/form-data")) {
      const form = await new Response(request.body, { headers: { "content-type": contentType } }).formData()
      return Object.fromEntries(Array.from(form, ([key, value]) => [key, String(value)]))
    }
    return Object.fromEntries(new URLSearchParams(request.body))
  })

const expectedAuthorization = (authMethod: TokenEndpoint.AuthMethod): string | undefined => {
  const form = (value: string) => new URLSearchParams([["", value]]).toString().slice(1)
  switch (authMethod) {
    case "client_secret_basic":
      return `Basic ${Buffer.from(`${form(CLIENT_ID)}:${form(SECRET)}`, "utf8").toString("base64")}`
    case "client_secret_basic_plain":
      return `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`, "utf8").toString("base64")}`
    case "client_secret_post":
      return undefined
  }
}

describe("the wire matrix: 3 HttpClient layers × 3 encodings × 3 auth methods", () => {
  for (const [clientName, clientLayer] of clients) {
    describe(clientName, () => {
      for (const encoding of encodings) {
        for (const authMethod of authMethods) {
          it.scoped(`${encoding} + ${authMethod}: the token request as the server received it`, () =>
            Effect.gen(function*() {
              const server = yield* HttpTestServer.make(() =>
                HttpTestServer.json(200, { access_token: TOKEN, token_type: "Bearer", expires_in: 3600 })
              )
              const endpoint = yield* TokenEndpoint.make({
                tokenUrl: `${server.origin}/oauth/token`,
                clientId: CLIENT_ID,
                clientSecret: Redacted.make(SECRET),
                authMethod,
                encoding,
                scope: ["orders:read", "orders:write"],
                extraParams: { ttl: "600" }
              })
              const token = yield* endpoint.request
              expect(Redacted.value(token.value)).toBe(TOKEN)
              const [request, ...more] = yield* server.requests
              assert(request !== undefined)
              expect(more).toEqual([])
              expect(request.method).toBe("POST")
              expect(request.url).toBe("/oauth/token")
              expect(request.headers["content-type"]).toMatch(contentTypes[encoding])
              expect(request.headers.authorization).toBe(expectedAuthorization(authMethod))
              const credentials = authMethod === "client_secret_post"
                ? { client_id: CLIENT_ID, client_secret: SECRET }
                : {}
              expect(yield* fieldsOf(request)).toEqual({
                grant_type: "client_credentials",
                ...credentials,
                scope: "orders:read orders:write",
                ttl: "600"
              })
            }).pipe(Effect.provide(clientLayer)))

          it.scoped(`${encoding} + ${authMethod}: an authorized API call against the emulator`, () =>
            Effect.gen(function*() {
              const emulator = yield* Emulator.make({
                provider: "bringg",
                clients: [{ id: CLIENT_ID, secret: SECRET }]
              })
              const live = AuthorizedClient.layer({ origins: [emulator.baseUrl] }).pipe(
                Layer.provideMerge(TokenManager.layer()),
                Layer.provideMerge(TokenEndpoint.layer({
                  tokenUrl: emulator.tokenUrl,
                  clientId: CLIENT_ID,
                  clientSecret: Redacted.make(SECRET),
                  authMethod,
                  encoding
                }))
              )
              const answer = yield* Effect.gen(function*() {
                const client = yield* AuthorizedClient.AuthorizedClient
                const response = yield* client.get(`${emulator.baseUrl}/services/orders`)
                return { status: response.status, body: yield* response.json }
              }).pipe(Effect.provide(live))
              // The emulator answers 200 only to `Authorization: Bearer <a token it issued to this client>`.
              expect(answer).toEqual({
                status: 200,
                body: expect.objectContaining({ success: true, client_id: CLIENT_ID })
              })
              const stats = yield* emulator.stats
              expect(stats).toMatchObject({
                tokenRequests: 1,
                tokensIssued: 1,
                resourceRequests: 1,
                resourceRejections: 0
              })
              const [tokenRequest] = yield* emulator.requests
              expect(tokenRequest).toMatchObject({
                encoding,
                authMethod: authMethod === "client_secret_post" ? "post" : "basic",
                clientId: CLIENT_ID,
                grantType: "client_credentials",
                status: 200
              })
            }).pipe(Effect.provide(clientLayer)))
        }
      }
    })
  }
})

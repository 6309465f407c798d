/**
 * The provider's pure parts: problem classification, the rejected-token predicate, URLs and the refresh window.
 */
import { AccessToken } from "@effect-oauth/core/AccessToken"
import * as RefreshPolicy from "@effect-oauth/core/RefreshPolicy"
import type * as TokenEndpoint from "@effect-oauth/core/TokenEndpoint"
import * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as DhlEcommerceProvider from "../src/DhlEcommerceProvider.js"

const errorResponse = (status: number, body: unknown): TokenEndpoint.ErrorResponse => ({
  status,
  headers: Headers.empty,
  body,
  receivedAt: 0
})

const problem = (code: string, title: string, extra: Record<string, unknown> = {}) => ({
  type: `https://api-sandbox.dhlecs.com/docs/errors/${code}`,
  title,
  ...extra
})

const response = (status: number, body: string) =>
  HttpClientResponse.fromWeb(
    HttpClientRequest.get("https://api.dhlecs.com/tracking/v4/package"),
    new Response(body, { status, headers: { "content-type": "application/problem+json" } })
  )

describe("DhlEcommerceProvider.classifyError", () => {
  it("Invalid credentials is InvalidCredentials whatever the status and casing, with code and title", () => {
    for (const [status, code] of [[400, "400.0000005"], [401, "401.0000007"], [422, "422.0000042"]] as const) {
      const error = DhlEcommerceProvider.classifyError(errorResponse(status, problem(code, "Invalid Credentials")))
      assert.deepInclude(error, { _tag: "InvalidCredentials", status, error: code, description: "Invalid Credentials" })
    }
  })

  it("other 4xx problems are TokenRequestRejected, their detail and invalid parameters in the description", () => {
    const error = DhlEcommerceProvider.classifyError(errorResponse(
      400,
      problem("400.0000001", "Invalid request", {
        detail: "The request could not be validated",
        invalidParams: [
          { name: "grant_type", reason: "must be client_credentials" },
          { name: "client_id", reason: "is required" }
        ]
      })
    ))
    assert.deepInclude(error, {
      _tag: "TokenRequestRejected",
      status: 400,
      error: "400.0000001",
      description:
        "Invalid request: The request could not be validated; grant_type: must be client_credentials; client_id: is required"
    })
  })

  it("401 and 403 problems with another title are InvalidCredentials", () => {
    assert.deepInclude(DhlEcommerceProvider.classifyError(errorResponse(403, problem("403.0000003", "Forbidden"))), {
      _tag: "InvalidCredentials",
      error: "403.0000003"
    })
  })

  it("408, 429, 5xx and bodies that are not problems fall back to core's default", () => {
    for (const status of [408, 429, 500, 503]) {
      assert.isUndefined(DhlEcommerceProvider.classifyError(errorResponse(status, problem(`${status}.1`, "Busy"))))
    }
    assert.isUndefined(DhlEcommerceProvider.classifyError(errorResponse(400, { error: "invalid_request" })))
    assert.isUndefined(DhlEcommerceProvider.classifyError(errorResponse(400, "<html>Bad Request</html>")))
    assert.isUndefined(DhlEcommerceProvider.classifyError(errorResponse(400, { type: 1, title: "Invalid request" })))
  })
})

describe("DhlEcommerceProvider.isTokenRejected", () => {
  const verdict = (status: number, body: string) => {
    const result = DhlEcommerceProvider.isTokenRejected(response(status, body))
    return typeof result === "boolean" ? Effect.succeed(result) : result
  }

  it.effect("any 401 is a rejection, decided without reading the body", () =>
    Effect.sync(() => {
      assert.strictEqual(DhlEcommerceProvider.isTokenRejected(response(401, "{}")), true)
    }))

  it.effect("statuses other than 400, 401 and 403 are not, decided without reading the body", () =>
    Effect.sync(() => {
      for (const status of [200, 201, 404, 429, 500]) {
        assert.strictEqual(DhlEcommerceProvider.isTokenRejected(response(status, "{}")), false)
      }
    }))

  it.effect("a 400 or 403 problem titled Access token expired is a rejection; other bodies are not", () =>
    Effect.gen(function*() {
      const expired = JSON.stringify(problem("400.0000002", "Access token expired"))
      assert.isTrue(yield* verdict(400, expired))
      assert.isTrue(yield* verdict(403, expired.replace("Access token expired", "access token EXPIRED")))
      assert.isFalse(yield* verdict(400, JSON.stringify(problem("400.0000001", "Invalid request"))))
      assert.isFalse(yield* verdict(400, "not json"))
      assert.isFalse(yield* verdict(403, ""))
    }))
})

describe("DhlEcommerceProvider providers", () => {
  it("sandbox, production and custom base URLs: token URL, API base URL and DHL's wire format", () => {
    assert.deepInclude(DhlEcommerceProvider.sandbox, {
      tokenUrl: "https://api-sandbox.dhlecs.com/auth/v4/accesstoken",
      apiBaseUrl: "https://api-sandbox.dhlecs.com",
      authMethod: "client_secret_post",
      encoding: "form"
    })
    assert.deepInclude(DhlEcommerceProvider.fromEnvironment("production"), {
      tokenUrl: "https://api.dhlecs.com/auth/v4/accesstoken",
      apiBaseUrl: "https://api.dhlecs.com"
    })
    assert.deepInclude(DhlEcommerceProvider.make(new URL("https://proxy.example.com/dhl/")), {
      name: "dhl-ecommerce",
      tokenUrl: "https://proxy.example.com/dhl/auth/v4/accesstoken",
      apiBaseUrl: "https://proxy.example.com/dhl"
    })
  })

  it("the default policy refreshes a 60-minute token 15 to 30 minutes after issue, whatever the jitter", () => {
    const policy = Either.getOrThrow(RefreshPolicy.make(DhlEcommerceProvider.refreshPolicy))
    const token = new AccessToken({
      value: Redacted.make("token"),
      tokenType: "Bearer",
      issuedAt: 0,
      expiresAt: 3_600_000,
      scope: Option.none(),
      serverCreatedAt: Option.none()
    })
    const minutes = [0, 0.25, 0.5, 0.75, 0.999999].map((random) =>
      RefreshPolicy.refreshPoint(policy, token, random) / 60_000
    )
    assert.closeTo(minutes[0]!, 20.25, 1e-9)
    assert.closeTo(minutes[4]!, 24.75, 1e-3)
    for (const minute of minutes) assert.isTrue(minute >= 15 && minute <= 30, `${minute}`)
  })
})

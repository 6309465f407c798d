import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { STATUS_CODES } from "node:http"
import type { Flavor, FlavorContext } from "./flavor.js"
import { issued, lifetimeSeconds, rejected } from "./flavor.js"

interface InvalidParam {
  readonly name: string
  readonly reason: string
}

// DHL's problem format: the last segment of `type` is `<status>.<service><version><serial>`.
const problem = (
  baseUrl: string,
  status: number,
  serial: string,
  title: string,
  options: {
    readonly invalidParams?: ReadonlyArray<InvalidParam>
    readonly headers?: Readonly<Record<string, string>>
  } = {}
) =>
  HttpServerResponse.unsafeJson({
    type: `${baseUrl}/docs/errors/${status}.${serial}`,
    title,
    ...(options.invalidParams === undefined ? {} : { invalidParams: options.invalidParams })
  }, { status, contentType: "application/problem+json", headers: options.headers ?? {} })

const required = ["grant_type", "client_id", "client_secret"] as const

/** DHL eCommerce Americas Authentication v4: `POST /auth/v4/accesstoken`, urlencoded body only. */
export const dhl = (context: FlavorContext): Flavor => {
  const invalidRequest = (invalidParams: ReadonlyArray<InvalidParam>) =>
    rejected(problem(context.baseUrl, 400, "0000001", "Invalid request", { invalidParams }))
  return {
    tokenPath: "/auth/v4/accesstoken",
    resourceRoute: "*",
    token: (input) =>
      Effect.gen(function*() {
        if (input.encoding !== "form") {
          return invalidRequest([{ name: "Content-Type", reason: "must be application/x-www-form-urlencoded" }])
        }
        const missing = required.filter((name) => (input.fields[name] ?? "") === "")
        if (missing.length > 0) return invalidRequest(missing.map((name) => ({ name, reason: "is required" })))
        if (input.fields["grant_type"] !== "client_credentials") {
          return invalidRequest([{ name: "grant_type", reason: "must be client_credentials" }])
        }
        const client = yield* context.store.findClient(input.fields["client_id"] ?? "")
        if (Option.isNone(client) || client.value.secret !== input.fields["client_secret"]) {
          // DHL's Authentication API v4 page shows 400.0000005; another public sample shows 401.0000007. Both carry this title.
          const serial = context.invalidCredentialsStatus === 400 ? "0000005" : "0000007"
          return rejected(problem(context.baseUrl, context.invalidCredentialsStatus, serial, "Invalid credentials"))
        }
        const lifetime = Option.getOrElse(client.value.tokenLifetime, () => context.defaultLifetime)
        const token = yield* context.store.issue(client.value, lifetime, client.value.scopes)
        return issued({
          access_token: token.value,
          client_id: client.value.id,
          token_type: "Bearer",
          expires_in: lifetimeSeconds(token.expiresAt - token.issuedAt)
        })
      }),
    resource: (check, method, path) => {
      switch (check._tag) {
        case "Valid":
          return HttpServerResponse.unsafeJson({ success: true, path, method, client_id: check.token.clientId })
        case "Expired":
          return problem(context.baseUrl, 401, "0000002", "Access token expired")
        default:
          return problem(context.baseUrl, 401, "0000001", "Invalid access token")
      }
    },
    failure: (status, headers) =>
      problem(context.baseUrl, status, "0000099", STATUS_CODES[status] ?? `HTTP ${status}`, { headers }),
    methodNotAllowed: problem(context.baseUrl, 405, "0000001", "Method not allowed", { headers: { allow: "POST" } })
  }
}

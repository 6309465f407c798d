import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { TokenRequestInput } from "./request.js"
import type { Client, Store, TokenCheck } from "./store.js"

// RFC 6749 §5.1: token responses, errors included, must not be cached.
const noStore = { "cache-control": "no-store", pragma: "no-cache" }

/** An RFC 6749 §5.2 error response. */
export const oauthError = (
  status: number,
  error: string,
  description: string,
  headers: Readonly<Record<string, string>> = {}
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson({ error, error_description: description }, {
    status,
    headers: { ...noStore, ...headers }
  })

/** A successful RFC 6749 §5.1 response. */
export const oauthSuccess = (body: unknown): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(body, { headers: noStore })

/** The §5.2 error code a bare status most plausibly carries, for injected failures. */
export const failureFor = (status: number, headers: Readonly<Record<string, string>>) => {
  const error = status === 401
    ? "invalid_client"
    : status === 429 || status === 503
    ? "temporarily_unavailable"
    : status >= 500
    ? "server_error"
    : "invalid_request"
  return oauthError(status, error, `Injected failure: HTTP ${status}`, headers)
}

/** The §5.2 answer to a request that is malformed or asks for another grant, if it is either. */
export const checkRequest = (input: TokenRequestInput): Option.Option<HttpServerResponse.HttpServerResponse> => {
  if (Option.isSome(input.bodyError)) {
    return Option.some(
      oauthError(400, "invalid_request", `The request body could not be parsed: ${input.bodyError.value}`)
    )
  }
  const grantType = input.fields["grant_type"]
  if (grantType === undefined || grantType === "") {
    return Option.some(oauthError(400, "invalid_request", "The grant_type parameter is required"))
  }
  if (grantType !== "client_credentials") {
    return Option.some(oauthError(400, "unsupported_grant_type", `The grant type ${grantType} is not supported`))
  }
  return Option.none()
}

/**
 * Authenticates the client by HTTP Basic (§2.3.1) and/or body credentials. `allowBoth` lets a request carry both
 * (Bringg's "Authenticate Requests" page asks for the header and the body fields); RFC 6749 §2.3 forbids it.
 */
export const authenticate = (
  store: Store,
  input: TokenRequestInput,
  allowBoth: boolean
): Effect.Effect<Either.Either<Client, HttpServerResponse.HttpServerResponse>> =>
  Effect.gen(function*() {
    const bodyId = input.fields["client_id"]
    const bodySecret = input.fields["client_secret"]
    // RFC 6749 §5.2: a failed Basic authentication must answer with a WWW-Authenticate challenge.
    const invalidClient = (description: string) =>
      Either.left(oauthError(
        401,
        "invalid_client",
        description,
        Option.isSome(input.basic) ? { "www-authenticate": "Basic realm=\"emulator\", charset=\"UTF-8\"" } : {}
      ))
    if (Option.isNone(input.basic) && bodySecret === undefined) {
      return invalidClient("Client authentication is required")
    }
    if (Option.isSome(input.basic) && bodySecret !== undefined && !allowBoth) {
      return Either.left(
        oauthError(400, "invalid_request", "The request uses more than one client authentication method")
      )
    }
    let authenticated: Client | undefined
    if (Option.isSome(input.basic)) {
      for (const [id, secret] of input.basic.value.pairs) {
        const client = yield* store.findClient(id)
        if (Option.isSome(client) && client.value.secret === secret) {
          authenticated = client.value
          break
        }
      }
      if (authenticated === undefined) return invalidClient("Client authentication failed")
    }
    if (bodySecret !== undefined) {
      const client = yield* store.findClient(bodyId ?? "")
      if (Option.isNone(client) || client.value.secret !== bodySecret) {
        return invalidClient("Client authentication failed")
      }
      authenticated ??= client.value
    }
    if (authenticated === undefined) return invalidClient("Client authentication failed")
    if (bodyId !== undefined && bodyId !== authenticated.id) {
      return invalidClient("The client_id does not match the authenticated client")
    }
    return Either.right(authenticated)
  })

/** §5.2 `unauthorized_client`: the client authenticated but is not registered for this grant. */
export const checkGrantAllowed = (client: Client): Option.Option<HttpServerResponse.HttpServerResponse> =>
  client.grantTypes.includes("client_credentials")
    ? Option.none()
    : Option.some(
      oauthError(400, "unauthorized_client", "The client is not authorized to use the client_credentials grant")
    )

/** A bearer token check that failed. */
export type Rejection = Exclude<TokenCheck, { readonly _tag: "Valid" }>

const descriptions: Record<Rejection["_tag"], string> = {
  Missing: "The access token is missing",
  Unknown: "The access token is invalid",
  Revoked: "The access token was revoked",
  Disabled: "The access token was disabled when the client secret was regenerated",
  Expired: "The access token expired"
}

/** RFC 6750 §3 rejection of a bearer token on a resource endpoint. */
export const invalidToken = (check: Rejection, realm: string): HttpServerResponse.HttpServerResponse => {
  const description = descriptions[check._tag]
  return HttpServerResponse.unsafeJson({ error: "invalid_token", error_description: description }, {
    status: 401,
    headers: {
      "www-authenticate": `Bearer realm="${realm}", error="invalid_token", error_description="${description}"`
    }
  })
}

/** 405 for anything but POST on the token endpoint (RFC 6749 §3.2). */
export const methodNotAllowed = HttpServerResponse.unsafeJson(
  { error: "invalid_request", error_description: "The token endpoint accepts POST only" },
  { status: 405, headers: { allow: "POST", ...noStore } }
)

/** 404 for a path no route serves. */
export const notFound = (method: string, path: string) =>
  HttpServerResponse.unsafeJson({ error: "not_found", error_description: `No route for ${method} ${path}` }, {
    status: 404
  })

import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Flavor, FlavorContext } from "./flavor.js"
import { issued, lifetimeSeconds, rejected } from "./flavor.js"
import * as OAuth from "./oauth.js"

// RFC 6749 §3.3: scope is a space-delimited list; no scope requested means the client's registered scopes.
const grantScope = (
  requested: string | undefined,
  registered: ReadonlyArray<string>
): Either.Either<ReadonlyArray<string>, string> => {
  const scopes = (requested ?? "").split(" ").filter((scope) => scope !== "")
  if (scopes.length === 0) return Either.right(registered)
  const unknown = scopes.filter((scope) => !registered.includes(scope))
  return unknown.length === 0
    ? Either.right(scopes)
    : Either.left(`The client may not request the scope ${unknown.join(" ")}`)
}

/** A generic RFC 6749 §4.4 server: form (or JSON) body, client_secret_basic or client_secret_post, scopes. */
export const rfc6749 = (context: FlavorContext): Flavor => ({
  tokenPath: "/oauth/token",
  resourceRoute: "/api/*",
  token: (input) =>
    Effect.gen(function*() {
      if (input.encoding === "multipart" || input.encoding === "other") {
        return rejected(OAuth.oauthError(
          400,
          "invalid_request",
          "The token endpoint accepts application/x-www-form-urlencoded (or JSON) bodies"
        ))
      }
      const invalid = OAuth.checkRequest(input)
      if (Option.isSome(invalid)) return rejected(invalid.value)
      const client = yield* OAuth.authenticate(context.store, input, false)
      if (Either.isLeft(client)) return rejected(client.left)
      const unauthorized = OAuth.checkGrantAllowed(client.right)
      if (Option.isSome(unauthorized)) return rejected(unauthorized.value)
      const scope = grantScope(input.fields["scope"], client.right.scopes)
      if (Either.isLeft(scope)) return rejected(OAuth.oauthError(400, "invalid_scope", scope.left))
      const lifetime = Option.getOrElse(client.right.tokenLifetime, () => context.defaultLifetime)
      const token = yield* context.store.issue(client.right, lifetime, scope.right)
      return issued({
        access_token: token.value,
        token_type: "Bearer",
        expires_in: lifetimeSeconds(token.expiresAt - token.issuedAt),
        ...(scope.right.length > 0 ? { scope: scope.right.join(" ") } : {})
      })
    }),
  resource: (check, method, path) =>
    check._tag === "Valid"
      ? HttpServerResponse.unsafeJson({
        success: true,
        path,
        method,
        client_id: check.token.clientId,
        scope: check.token.scope.join(" ")
      })
      : OAuth.invalidToken(check, "emulator"),
  failure: OAuth.failureFor,
  methodNotAllowed: OAuth.methodNotAllowed
})

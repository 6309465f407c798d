import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Flavor, FlavorContext } from "./flavor.js"
import { issued, lifetimeSeconds, rejected } from "./flavor.js"
import * as OAuth from "./oauth.js"

const servicesPrefix = "/services/"

// Bringg's "Authenticate Requests" page: `ttl` is an optional lifetime in seconds.
const parseTtl = (ttl: string | undefined): Either.Either<Option.Option<Duration.Duration>, string> => {
  if (ttl === undefined || ttl === "") return Either.right(Option.none())
  return /^\d+$/.test(ttl) && Number(ttl) > 0
    ? Either.right(Option.some(Duration.seconds(Number(ttl))))
    : Either.left("The ttl parameter must be a positive number of seconds")
}

/** Bringg Delivery Hub: `POST /oauth/token` in multipart, urlencoded or JSON, credentials in body or Basic. */
export const bringg = (context: FlavorContext): Flavor => ({
  tokenPath: "/oauth/token",
  resourceRoute: "/services/*",
  token: (input, skewMillis) =>
    Effect.gen(function*() {
      const invalid = OAuth.checkRequest(input)
      if (Option.isSome(invalid)) return rejected(invalid.value)
      const client = yield* OAuth.authenticate(context.store, input, true)
      if (Either.isLeft(client)) return rejected(client.left)
      const unauthorized = OAuth.checkGrantAllowed(client.right)
      if (Option.isSome(unauthorized)) return rejected(unauthorized.value)
      const ttl = parseTtl(input.fields["ttl"])
      if (Either.isLeft(ttl)) return rejected(OAuth.oauthError(400, "invalid_request", ttl.left))
      const lifetime = Option.orElse(ttl.right, () => client.right.tokenLifetime).pipe(
        Option.getOrElse(() => context.defaultLifetime)
      )
      const token = yield* context.store.issue(client.right, lifetime, client.right.scopes)
      return issued({
        access_token: token.value,
        token_type: "Bearer",
        expires_in: lifetimeSeconds(token.expiresAt - token.issuedAt),
        created_at: Math.floor((token.issuedAt + skewMillis) / 1000)
      })
    }),
  resource: (check, method, path) =>
    check._tag === "Valid"
      ? HttpServerResponse.unsafeJson({
        success: true,
        service: path.slice(servicesPrefix.length),
        method,
        client_id: check.token.clientId
      })
      : OAuth.invalidToken(check, "Bringg"),
  failure: OAuth.failureFor,
  methodNotAllowed: OAuth.methodNotAllowed
})

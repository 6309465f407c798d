/**
 * @effect-oauth/core: the OAuth 2.0 client-credentials engine for Effect.
 *
 * @since 0.1.0
 */

/**
 * The access token model.
 *
 * @since 0.1.0
 */
export * as AccessToken from "./AccessToken.js"

/**
 * The typed errors.
 *
 * @since 0.1.0
 */
export * as OAuthError from "./OAuthError.js"

/**
 * When tokens are refreshed and failed refreshes retried.
 *
 * @since 0.1.0
 */
export * as RefreshPolicy from "./RefreshPolicy.js"

/**
 * One call to a token endpoint.
 *
 * @since 0.1.0
 */
export * as TokenEndpoint from "./TokenEndpoint.js"

/**
 * Where the current token lives.
 *
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"

/**
 * Keeps a valid token at hand and refreshes it ahead of expiry.
 *
 * @since 0.1.0
 */
export * as TokenManager from "./TokenManager.js"

/**
 * The `HttpClient` that carries the token to the provider's origins and recovers once from a rejected token.
 *
 * @since 0.1.0
 */
export * as AuthorizedClient from "./AuthorizedClient.js"

/**
 * What a provider package supplies, and the layer that turns it into a ready client.
 *
 * @since 0.1.0
 */
export * as Provider from "./Provider.js"

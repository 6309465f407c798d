/**
 * @effect-oauth/bringg: Bringg Delivery Hub over OAuth 2.0 client credentials, for Effect.
 *
 * @since 0.1.0
 */

/**
 * Bringg's regions and the `Provider` for a region or a custom base URL.
 *
 * @since 0.1.0
 */
export * as BringgProvider from "./BringgProvider.js"

/**
 * The ready Bringg client: the `BringgClient` tag, `make` for one app, `layer` and `layerConfig`.
 *
 * @since 0.1.0
 */
export * as BringgClient from "./BringgClient.js"

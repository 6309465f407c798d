/**
 * @effect-oauth/dhl: DHL APIs for Effect programs, with tokens cached, refreshed ahead of expiry and recovered.
 * DHL eCommerce Americas (Authentication API v4) first; other DHL APIs get modules of their own.
 *
 * @since 0.1.0
 */

/**
 * DHL eCommerce Americas as a provider: environments, token request, problem-format errors, refresh policy.
 *
 * @since 0.1.0
 */
export * as DhlEcommerceProvider from "./DhlEcommerceProvider.js"

/**
 * The ready `HttpClient` for DHL eCommerce Americas APIs, as a layer, from environment variables, or one per app.
 *
 * @since 0.1.0
 */
export * as DhlEcommerceClient from "./DhlEcommerceClient.js"

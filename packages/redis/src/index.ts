/**
 * @effect-oauth/redis: a token store on Redis that one fleet of processes shares.
 *
 * @since 0.1.0
 */

/**
 * The Redis token store: `make`, `layer`, `layerConfig`.
 *
 * @since 0.1.0
 */
export * as RedisTokenStore from "./RedisTokenStore.js"

/**
 * @effect-oauth/testing: a provider emulator (a real HTTP server) for testing OAuth 2.0 client-credentials
 * integrations against Bringg, DHL eCommerce Americas or a generic RFC 6749 server.
 *
 * @since 0.1.0
 */

/**
 * The emulator: options, the scoped `layer`/`make`, the standalone `serve` and the control handle.
 *
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"

/**
 * Faults to inject into the emulator's token endpoint.
 *
 * @since 0.1.0
 */
export * as Fault from "./Fault.js"

/**
 * A recorder of what an effect logs (every level, as logfmt and JSON) and traces (every span), with the renderings a
 * test checks for secrets.
 *
 * @since 0.1.0
 */
export * as Recorder from "./Recorder.js"

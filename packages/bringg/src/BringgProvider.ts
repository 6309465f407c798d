/**
 * Bringg Delivery Hub as a `Provider`: its regions, where each one's token endpoint and API live, and how the token
 * request goes on the wire.
 *
 * @since 0.1.0
 */
import type * as Provider from "@effect-oauth/core/Provider"
import type * as TokenEndpoint from "@effect-oauth/core/TokenEndpoint"

/**
 * A Bringg region: `us2`, `us3`, `eu2`, `eu3`, or `app`, the general gateway. An account lives in one of them.
 *
 * @since 0.1.0
 * @category models
 */
export type Region = "us2" | "us3" | "eu2" | "eu3" | "app"

/**
 * The base URL of each region (Bringg's "OAuth 2.0 URLs"): the token endpoint is `<base>/oauth/token` and API calls
 * are `POST <base>/services/<service>`.
 *
 * @since 0.1.0
 * @category constants
 */
export const regions: { readonly [R in Region]: string } = {
  us2: "https://us2-admin-api.bringg.com",
  us3: "https://us3-api.bringg.com",
  eu2: "https://eu2-admin-api.bringg.com",
  eu3: "https://eu3-admin-api.bringg.com",
  app: "https://app.bringg.com"
}

/**
 * Where the account lives: a `region`, or any `baseUrl` (a sandbox account gets its own), never both. A base URL
 * must be `https:` (plain `http:` only on a loopback host, as for a local emulator): the client checks it when it
 * is built.
 *
 * @since 0.1.0
 * @category models
 */
export type Location =
  | { readonly region: Region; readonly baseUrl?: undefined }
  | { readonly baseUrl: string | URL; readonly region?: undefined }

/**
 * How the token request is sent.
 *
 * - `encoding`: default `multipart` (`multipart/form-data`, as the `curl -F` example of Bringg's "Authenticate
 *   Requests" guide sends it); `json`, as Bringg's OAuth 2.0 API reference shows it; `form` (urlencoded).
 * - `authMethod`: default `client_secret_post` (`client_id` and `client_secret` in the body);
 *   `client_secret_basic` puts the credentials in an `Authorization: Basic` header instead, for servers that want
 *   the app credentials in the request header (`client_secret_basic_plain` for the unencoded form).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly encoding?: TokenEndpoint.Encoding | undefined
  readonly authMethod?: TokenEndpoint.AuthMethod | undefined
}

/**
 * The Bringg provider for a region or a base URL: token URL `<base>/oauth/token`, API base URL `<base>` (so a
 * program calls `client.post("/services/<service>")`), the token sent to that origin only, and core's defaults
 * for the rest, which fit Bringg: the RFC 6749 §5.2 error classifier (401 `invalid_client` →
 * `InvalidCredentials`), the response schema with `created_at`, and a 401 from the API as a rejected token.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (location: Location, options: Options = {}): Provider.Provider => {
  // Trailing slashes dropped so that `<base>/oauth/token` has one slash whatever the caller wrote.
  const base = (location.region === undefined ? String(location.baseUrl) : regions[location.region]).replace(
    /\/+$/,
    ""
  )
  return {
    name: "bringg",
    tokenUrl: `${base}/oauth/token`,
    apiBaseUrl: base,
    authMethod: options.authMethod ?? "client_secret_post",
    encoding: options.encoding ?? "multipart"
  }
}

/**
 * The `us2` region (`https://us2-admin-api.bringg.com`) with the default wire format.
 *
 * @since 0.1.0
 * @category providers
 */
export const us2: Provider.Provider = make({ region: "us2" })

/**
 * The `us3` region (`https://us3-api.bringg.com`) with the default wire format.
 *
 * @since 0.1.0
 * @category providers
 */
export const us3: Provider.Provider = make({ region: "us3" })

/**
 * The `eu2` region (`https://eu2-admin-api.bringg.com`) with the default wire format.
 *
 * @since 0.1.0
 * @category providers
 */
export const eu2: Provider.Provider = make({ region: "eu2" })

/**
 * The `eu3` region (`https://eu3-admin-api.bringg.com`) with the default wire format.
 *
 * @since 0.1.0
 * @category providers
 */
export const eu3: Provider.Provider = make({ region: "eu3" })

/**
 * The general gateway (`https://app.bringg.com`) with the default wire format.
 *
 * @since 0.1.0
 * @category providers
 */
export const app: Provider.Provider = make({ region: "app" })

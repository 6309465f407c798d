import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import type * as Provider from "../Provider.js"
import * as RefreshPolicy from "../RefreshPolicy.js"
import type * as TokenEndpoint from "../TokenEndpoint.js"
import type * as TokenManager from "../TokenManager.js"
import * as authorizedClient from "./authorizedClient.js"
import { parseSecureUrl } from "./url.js"

/**
 * One app of a provider, every option checked once: what the token endpoint, the token manager and the authorized
 * client are built from, and the API base URL (parsed once) that relative request URLs go under. The endpoint checks
 * its own fields (`tokenUrl`, `clientId`, …) when it is built, from these values as the caller gave them.
 *
 * @internal
 */
export interface Resolved {
  readonly endpoint: TokenEndpoint.Options
  readonly manager: TokenManager.Options
  readonly client: authorizedClient.Resolved
  readonly apiBaseUrl: URL
}

type Fields = Readonly<Record<string, unknown>>

const isRecord = (input: unknown): input is Fields => typeof input === "object" && input !== null

// An optional object field: absent, or a plain object.
const record = (input: unknown, field: string): Either.Either<Fields | undefined, ConfigError.ConfigError> =>
  input === undefined || isRecord(input)
    ? Either.right(input)
    : Either.left(ConfigError.InvalidData([field], `${field} must be an object`))

/**
 * Checks a provider, one app's credentials and its options (from TypeScript or untyped JavaScript) into one
 * `Resolved`, or the first `ConfigError`, naming the field.
 *
 * @internal
 */
export const resolve = (
  provider: Provider.Provider,
  credentials: Provider.AppOptions,
  options: Provider.Options | undefined
): Either.Either<Resolved, ConfigError.ConfigError> =>
  Either.gen(function*() {
    if (!isRecord(provider)) return yield* Either.left(ConfigError.InvalidData([], "the provider must be an object"))
    if (!isRecord(credentials)) {
      return yield* Either.left(ConfigError.InvalidData([], "the credentials must be an object"))
    }
    const app: Fields = { ...credentials, ...(yield* record(options, "options")) }
    const apiBaseUrl = yield* parseSecureUrl(provider.apiBaseUrl, ["apiBaseUrl"])
    // Request paths are appended to it: a query or fragment would end up in the middle of every URL.
    if (apiBaseUrl.search !== "" || apiBaseUrl.hash !== "") {
      return yield* Either.left(
        ConfigError.InvalidData(["apiBaseUrl"], "apiBaseUrl must not carry a query (?…) or a fragment (#…)")
      )
    }
    const client = yield* authorizedClient.resolve({
      origins: provider.origins ?? [apiBaseUrl],
      isTokenRejected: provider.isTokenRejected
    })
    const policy = yield* Either.mapLeft(
      RefreshPolicy.make({
        ...(yield* record(provider.refreshPolicy, "refreshPolicy")),
        ...(yield* record(app.policy, "policy"))
      }),
      (error) => ConfigError.prefixed(error, ["policy"])
    )
    const providerParams = yield* record(provider.extraParams, "extraParams")
    const appParams = yield* record(app.extraParams, "extraParams")
    const endpoint = {
      tokenUrl: provider.tokenUrl,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      authMethod: provider.authMethod,
      encoding: provider.encoding,
      scope: app.scope,
      audience: app.audience,
      resource: app.resource,
      extraParams: providerParams === undefined && appParams === undefined
        ? undefined
        : { ...providerParams, ...appParams },
      responseSchema: provider.responseSchema,
      classifyError: provider.classifyError,
      timeout: app.timeout,
      // One default for a response without expires_in, whether the endpoint or the policy asks.
      defaultLifetime: policy.defaultLifetime
    } as TokenEndpoint.Options
    const manager = {
      policy,
      name: app.name ?? provider.name,
      metricsLabel: app.metricsLabel,
      store: app.store,
      clockSkewWarning: app.clockSkewWarning
    } as TokenManager.Options
    return { endpoint, manager, client, apiBaseUrl }
  })

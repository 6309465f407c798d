import * as Provider from "@effect-oauth/core/Provider"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as BringgProvider from "../BringgProvider.js"

/** @internal */
export const regionNames = Object.keys(BringgProvider.regions) as ReadonlyArray<BringgProvider.Region>

/**
 * The location of `make`'s options, checked at run time too (options may come from JavaScript or a config): exactly
 * one of `region` and `baseUrl`, a known region, a secure base URL (parsed here, once).
 *
 * @internal
 */
export const location = (options: unknown): Either.Either<BringgProvider.Location, ConfigError.ConfigError> => {
  if (typeof options !== "object" || options === null) {
    return Either.left(ConfigError.InvalidData([], "the options must be an object"))
  }
  const { baseUrl, region } = options as { readonly region?: unknown; readonly baseUrl?: unknown }
  if (region !== undefined && baseUrl !== undefined) {
    return Either.left(ConfigError.InvalidData(["baseUrl"], "give either region or baseUrl, not both"))
  }
  if (baseUrl !== undefined) return Either.map(Provider.secureUrl(baseUrl, ["baseUrl"]), (url) => ({ baseUrl: url }))
  if (region === undefined) {
    return Either.left(
      ConfigError.InvalidData(["region"], `give region (one of ${regionNames.join(", ")}) or baseUrl`)
    )
  }
  return regionNames.includes(region as BringgProvider.Region)
    ? Either.right({ region: region as BringgProvider.Region })
    : Either.left(ConfigError.InvalidData(["region"], `region must be one of ${regionNames.join(", ")}`))
}

/**
 * `ttl` as Bringg's field wants it: integer seconds, as a string; `undefined` when not set. A bare number is refused
 * (Effect reads it as milliseconds, Bringg's `ttl` is seconds: `1800` would mean 1.8 s), naming the field and the
 * unit.
 *
 * @internal
 */
export const ttlField = (ttl: unknown): Either.Either<string | undefined, ConfigError.ConfigError> => {
  if (ttl === undefined) return Either.right(undefined)
  if (typeof ttl === "number" || typeof ttl === "bigint") {
    return Either.left(
      ConfigError.InvalidData(
        ["ttl"],
        `ttl must be a duration such as "30 minutes" or Duration.seconds(${String(ttl)}), not a bare number: ` +
          "Bringg measures ttl in seconds, Effect reads a bare number as milliseconds"
      )
    )
  }
  const duration = Duration.decodeUnknown(ttl)
  const millis = Option.isSome(duration) && Duration.isFinite(duration.value) ? Duration.toMillis(duration.value) : NaN
  // Rounding would silently change the lifetime the caller asked for; a fraction of a second is a mistake.
  return millis >= 1000 && millis % 1000 === 0
    ? Either.right(String(millis / 1000))
    : Either.left(
      ConfigError.InvalidData(["ttl"], "ttl must be a positive, finite whole number of seconds, e.g. \"30 minutes\"")
    )
}

import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as BringgProvider from "../BringgProvider.js"

/** @internal */
export const regionNames = Object.keys(BringgProvider.regions) as ReadonlyArray<BringgProvider.Region>

/**
 * The location of `make`'s options, checked at run time too (options may come from JavaScript or a config): exactly
 * one of `region` and `baseUrl`, and a known region.
 *
 * @internal
 */
export const location = (options: {
  readonly region?: unknown
  readonly baseUrl?: string | URL | undefined
}): Either.Either<BringgProvider.Location, ConfigError.ConfigError> => {
  const { baseUrl, region } = options
  if (region !== undefined && baseUrl !== undefined) {
    return Either.left(ConfigError.InvalidData(["baseUrl"], "give either region or baseUrl, not both"))
  }
  if (baseUrl !== undefined) return Either.right({ baseUrl })
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
 * `ttl` as Bringg's field wants it: integer seconds, as a string; `undefined` when not set.
 *
 * @internal
 */
export const ttlField = (
  ttl: Duration.DurationInput | undefined
): Either.Either<string | undefined, ConfigError.ConfigError> => {
  if (ttl === undefined) return Either.right(undefined)
  const duration = Duration.decodeUnknown(ttl)
  const millis = Option.isSome(duration) && Duration.isFinite(duration.value) ? Duration.toMillis(duration.value) : NaN
  // Rounding would silently change the lifetime the caller asked for; a fraction of a second is a mistake.
  return millis >= 1000 && millis % 1000 === 0
    ? Either.right(String(millis / 1000))
    : Either.left(ConfigError.InvalidData(["ttl"], "ttl must be a positive, finite whole number of seconds"))
}

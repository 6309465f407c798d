import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"

/**
 * Writes a line to standard output. The command's own output bypasses Effect's `Console`, which `Cli.run` reroutes
 * to keep @effect/cli's multi-line usage errors off stderr.
 */
export const stdout = (line: string): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(`${line}\n`))

/** Writes a line to standard error. */
export const stderr = (line: string): Effect.Effect<void> => Effect.sync(() => void process.stderr.write(`${line}\n`))

const text = (message: unknown) => (Array.isArray(message) ? message : [message]).map(String).join(" ")

/**
 * The logger of `token` and `call`: silent unless `--verbose`, then every level from Debug as one line on stderr
 * (`level message key=value…`), the library's own log lines included.
 */
export const diagnostics = (verbose: boolean) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ annotations, logLevel, message }) => {
      if (!verbose) return
      const pairs = Array.from(HashMap.toEntries(annotations)).map(([key, value]) => ` ${key}=${String(value)}`)
      process.stderr.write(`${logLevel.label.toLowerCase()}: ${text(message)}${pairs.join("")}\n`)
    })
  )

/** The minimum log level that goes with `diagnostics`. */
export const minimumLevel = (verbose: boolean) => Logger.minimumLogLevel(verbose ? LogLevel.Debug : LogLevel.None)

/** The emulator's request log: `HH:MM:SS.mmm line` on standard output. */
export const requestLog = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ date, message }) => {
    process.stdout.write(`${date.toISOString().slice(11, 23)} ${text(message)}\n`)
  })
)

/** `1 h 2 min 3 s` style, from milliseconds, rounded to the second. */
export const humanDuration = (millis: number): string => {
  const total = Math.round(Math.abs(millis) / 1000)
  const parts = [[Math.floor(total / 3600), "h"], [Math.floor(total / 60) % 60, "min"], [total % 60, "s"]] as const
  const shown = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n} ${unit}`)
  return shown.length === 0 ? "0 s" : shown.join(" ")
}

/** Key/value rows aligned on one column. */
export const rows = (entries: ReadonlyArray<readonly [string, string]>): ReadonlyArray<string> => {
  const width = Math.max(...entries.map(([key]) => key.length))
  return entries.map(([key, value]) => `${key.padEnd(width)}  ${value}`)
}

/** `Some` value or a dash. */
export const orDash = <A>(option: Option.Option<A>, show: (a: A) => string = String): string =>
  Option.match(option, { onNone: () => "-", onSome: show })

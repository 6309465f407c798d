/**
 * The `effect-oauth` command: `token` gets an access token and shows what came back, `call` makes one authorized API
 * call, `emulator` runs a provider emulator. `run` turns a command line into an exit code (see `ExitCode`).
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cause from "effect/Cause"
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as ExitCode from "./ExitCode.js"
import { call } from "./internal/call.js"
import { emulator } from "./internal/emulator.js"
import { stderr } from "./internal/output.js"
import { token } from "./internal/token.js"

/**
 * The command's version, as `effect-oauth --version` prints it.
 *
 * @since 0.1.0
 */
export const version = "0.1.0"

const root = Command.make(
  "effect-oauth",
  {},
  () => Effect.fail(new ExitCode.UsageError({ message: "missing command: token, call or emulator" }))
).pipe(
  Command.withDescription(
    "OAuth 2.0 client credentials from the command line: get a token, call an API with it, run a provider emulator."
  ),
  Command.withSubcommands([token, call, emulator])
)

const cli = Command.run(root, { name: "effect-oauth", version })

const ansi = /\u001b\[[0-9;]*m/g

const oneLine = (text: string) => text.replace(ansi, "").replace(/\s+/g, " ").trim()

const commandOf = (argv: ReadonlyArray<string>) => {
  const name = argv.slice(2).find((arg) => !arg.startsWith("-"))
  return name === "token" || name === "call" || name === "emulator" ? `effect-oauth ${name}` : "effect-oauth"
}

// @effect/cli prints usage errors with `Console.error` as a paragraph; `run` prints its own single line instead. Help
// goes through `Console.log`, in colour on a terminal only.
const quietErrors = Effect.map(Effect.console, (console): Console.Console => ({
  ...console,
  error: () => Effect.void,
  log: (...args) =>
    process.stdout.isTTY === true
      ? console.log(...args)
      : Effect.sync(() => void process.stdout.write(`${args.map(String).join(" ").replace(ansi, "")}\n`))
}))

// The error's message, else its cause's (a platform `ServeError` carries the reason there).
const messageOf = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const own = "message" in error ? String(error.message) : ""
  if (own !== "") return own
  const cause = "cause" in error ? error.cause : undefined
  return cause instanceof Error ? cause.message : String(cause ?? "")
}

const detail = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const fields = Object.fromEntries(Object.entries(error).filter(([key]) => key !== "stack"))
  return JSON.stringify(fields)
}

/**
 * Runs the command line `argv` (as `process.argv`: the runtime and script first) and returns its exit code. Output
 * goes to standard output; every failure is one line on standard error (`--verbose` adds the error's fields and the
 * library's log lines), never a stack trace.
 *
 * @since 0.1.0
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, NodeContext.NodeContext> =>
  Effect.gen(function*() {
    const verbose = argv.includes("--verbose")
    const command = commandOf(argv)
    const console = yield* quietErrors
    return yield* cli(argv).pipe(
      Effect.withConsole(console),
      Effect.as(ExitCode.Ok),
      Effect.catchAll((error) =>
        Effect.gen(function*() {
          if (ValidationError.isValidationError(error)) {
            yield* stderr(`${command}: ${oneLine(HelpDoc.toAnsiText(error.error))} (see ${command} --help)`)
            return ExitCode.Usage
          }
          const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Error"
          const message = messageOf(error)
          yield* stderr(`${command}: ${tag === "UsageError" ? "" : `${tag}: `}${oneLine(message)}`)
          if (verbose) yield* stderr(`  ${detail(error)}`)
          return ExitCode.fromError(error)
        })
      ),
      Effect.catchAllDefect((defect) =>
        Effect.gen(function*() {
          yield* stderr(
            `${command}: unexpected failure: ${oneLine(defect instanceof Error ? defect.message : String(defect))}`
          )
          if (verbose) yield* stderr(Cause.pretty(Cause.die(defect)))
          return ExitCode.Failure
        })
      )
    )
  })

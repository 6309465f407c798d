import { assert, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"
import type { RunningEmulator } from "./utils.js"
import { emulator, platform } from "./utils.js"

class Bringg extends Context.Tag("test/PromptBringg")<Bringg, RunningEmulator>() {}

const secret = "tty-s3cr3t-Hd8"
const Emulators = Layer.scoped(Bringg, emulator(["--provider", "bringg", "--client", `oms:${secret}`])).pipe(
  Layer.provideMerge(platform)
)

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))
// util-linux `script` gives the command a pseudo-terminal: what a person at a terminal has.
const script = ["/usr/bin/script", "/bin/script"].find((path) => Fs.existsSync(path))

/**
 * Runs `effect-oauth token bringg` on a pseudo-terminal, types the secret once the prompt shows (waiting at most
 * 30 seconds for it), and returns everything the terminal showed and the exit code.
 */
const onTerminal = (baseUrl: string) =>
  Effect.async<{ readonly screen: string; readonly exitCode: number | null }, Error>((resume) => {
    const command = `'${process.execPath}' --conditions=@effect-oauth/source --import tsx '${bin}' token bringg`
    const child = ChildProcess.spawn(script!, ["-qec", command, "/dev/null"], {
      env: { ...process.env, BRINGG_BASE_URL: baseUrl, BRINGG_CLIENT_ID: "oms", NO_COLOR: "1" }
    })
    let screen = ""
    let typed = false
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.stdout.on("data", (chunk: Buffer) => {
      screen += chunk.toString("utf8")
      if (!typed && screen.includes("BRINGG_CLIENT_SECRET")) {
        typed = true
        child.stdin.write(`${secret}\r`)
      }
    })
    child.on("close", (exitCode) => {
      clearTimeout(timer)
      resume(Effect.succeed({ screen, exitCode }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

layer(Emulators, { timeout: 120_000 })("effect-oauth on a terminal", (it) => {
  it.effect.skipIf(script === undefined)("prompts for the secret without echoing it", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Bringg
      const { exitCode, screen } = yield* onTerminal(baseUrl)
      assert.strictEqual(exitCode, 0, screen)
      assert.include(screen, "BRINGG_CLIENT_SECRET")
      assert.match(screen, /token type\s+Bearer/)
      assert.notInclude(screen, secret)
    }), 120_000)
})

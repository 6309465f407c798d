/**
 * Standalone emulator: `tsx --conditions=@effect-oauth/source packages/testing/src/bin.ts --provider bringg
 * --port 8080 --client my-id:my-secret` (repeat `--client`; without one, `demo:demo-secret` is registered).
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { parseArgs } from "node:util"
import * as Emulator from "./Emulator.js"

const { values } = parseArgs({
  options: {
    provider: { type: "string", default: "bringg" },
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    client: { type: "string", multiple: true, default: ["demo:demo-secret"] }
  }
})

const providers: ReadonlyArray<string> = ["bringg", "dhl", "rfc6749"]
if (!providers.includes(values.provider)) throw new Error(`--provider must be one of ${providers.join(", ")}`)

const clients = values.client.map((pair) => {
  const colon = pair.indexOf(":")
  if (colon === -1) throw new Error(`--client takes id:secret, got ${pair}`)
  return { id: pair.slice(0, colon), secret: pair.slice(colon + 1) }
})

NodeRuntime.runMain(Emulator.serve({
  provider: values.provider as Emulator.Provider,
  port: Number(values.port),
  host: values.host,
  clients
}))

/**
 * The snippets of packages/bringg/README.md, type-checked by `pnpm check` so the README stays true to the code.
 */
import { BringgClient } from "@effect-oauth/bringg"
import { Emulator } from "@effect-oauth/testing"
import { FetchHttpClient, HttpBody } from "@effect/platform"
import { Config, Effect, Layer, Redacted } from "effect"

// --- The layer and one API call
const Bringg = BringgClient.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))

export const program = Effect.gen(function*() {
  const bringg = yield* BringgClient.BringgClient
  const response = yield* bringg.post("/services/get_task", { body: HttpBody.unsafeJson({ id: 12345 }) })
  return yield* response.json
}).pipe(Effect.provide(Bringg))

// --- Options
export const BringgEu2 = BringgClient.layer({
  region: "eu2",
  clientId: "your-client-id",
  clientSecret: Redacted.make("your-client-secret"),
  ttl: "30 minutes"
})

// --- Several apps
export const apps = Effect.gen(function*() {
  const oms = yield* BringgClient.make({ ...(yield* Config.nested(BringgClient.config, "OMS")), name: "bringg-oms" })
  const wms = yield* BringgClient.make({ ...(yield* Config.nested(BringgClient.config, "WMS")), name: "bringg-wms" })
  return { oms, wms }
})

// --- Testing with the emulator
export const test = Effect.gen(function*() {
  const emulator = yield* Emulator.make({ provider: "bringg", clients: [{ id: "oms", secret: "s3cr3t" }] })
  const oms = yield* BringgClient.make({
    baseUrl: emulator.baseUrl,
    clientId: "oms",
    clientSecret: Redacted.make("s3cr3t")
  })
  yield* oms.client.post("/services/create_task")
})

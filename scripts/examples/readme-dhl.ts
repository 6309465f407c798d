/**
 * The snippets of packages/dhl/README.md, type-checked by `pnpm check` so the README stays true to the code.
 */
import { DhlEcommerceClient } from "@effect-oauth/dhl"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

// --- The layer and one API call
const Dhl = DhlEcommerceClient.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))

export const trackPackage = (trackingId: string) =>
  Effect.gen(function*() {
    const dhl = yield* DhlEcommerceClient.DhlEcommerceClient
    const response = yield* dhl.get("/tracking/v4/package", { urlParams: { trackingId } })
    return yield* response.json
  }).pipe(Effect.provide(Dhl))

// --- Options
export const Sandbox = DhlEcommerceClient.layer({
  clientId: "my-client-id",
  clientSecret: Redacted.make(process.env.DHL_SECRET ?? ""),
  environment: "sandbox"
})

// --- Several apps
declare const omsCredentials: { clientId: string; clientSecret: Redacted.Redacted<string> }
declare const wmsCredentials: { clientId: string; clientSecret: Redacted.Redacted<string> }
declare const trackingId: string

export const program = Effect.gen(function*() {
  const oms = yield* DhlEcommerceClient.make({ ...omsCredentials, environment: "production", name: "dhl-oms" })
  const wms = yield* DhlEcommerceClient.make({ ...wmsCredentials, environment: "production", name: "dhl-wms" })
  yield* oms.client.get("/tracking/v4/package", { urlParams: { trackingId } })
  yield* wms.manager.get
}).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))

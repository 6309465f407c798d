import { Emulator } from "@effect-oauth/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as DhlEcommerceClient from "../../src/DhlEcommerceClient.js"

// Characters that form encoding changes, so a secret leaking in any encoded form would be caught.
export const SECRET = "dhl+s3cr3t/=&value"

/** A DHL emulator with the app `oms`, and the client options that point at it. */
export const setup = (emulatorOptions: Partial<Emulator.Options> = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make({
      provider: "dhl",
      clients: [{ id: "oms", secret: SECRET }],
      ...emulatorOptions
    })
    const options: DhlEcommerceClient.Options = {
      clientId: "oms",
      clientSecret: Redacted.make(SECRET),
      environment: "sandbox",
      baseUrl: emulator.baseUrl
    }
    return { emulator, options }
  })

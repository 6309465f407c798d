import type * as Provider from "@effect-oauth/core/Provider"
import type * as TokenManager from "@effect-oauth/core/TokenManager"
import type { Emulator } from "@effect-oauth/testing"
import * as HttpBody from "@effect/platform/HttpBody"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as BringgClient from "../src/BringgClient.js"

/** Secrets with characters that change under form encoding, so a leak in any encoded form would show. */
export const OMS = { id: "oms", secret: "oms-s3cr3t+/=%value" } as const
export const WMS = { id: "wms", secret: "wms-s3cr3t+/=%value" } as const
export const BILLING = { id: "billing", secret: "billing-s3cr3t+/=%value" } as const

/** One app against the emulator, with its client id and secret and any other options. */
export const app = (
  emulator: Emulator.Handle,
  client: { readonly id: string; readonly secret: string },
  options: Partial<Omit<BringgClient.Options, "region" | "baseUrl">> = {}
) =>
  BringgClient.make({
    ...options,
    baseUrl: emulator.baseUrl,
    clientId: client.id,
    clientSecret: Redacted.make(client.secret)
  })

/** The manager's events from now on, in a queue. */
export const eventsOf = (manager: TokenManager.Service) =>
  Effect.gen(function*() {
    const events = yield* Queue.unbounded<TokenManager.TokenEvent>()
    yield* Stream.runForEach(manager.events, (event) => Queue.offer(events, event)).pipe(Effect.forkScoped)
    yield* Effect.yieldNow()
    return events
  })

/** The tag of an event, with the error tag for `Failed`. */
export const describeEvent = (event: TokenManager.TokenEvent) =>
  event._tag === "Failed" ? `Failed:${event.error}` : event._tag

/** `POST /services/<service>` with a JSON body, answered with Bringg's JSON. */
export const callService = (client: Provider.App["client"], service: string) =>
  Effect.flatMap(
    client.post(`/services/${service}`, { body: HttpBody.unsafeJson({ external_id: "order-1" }) }),
    (response) =>
      Effect.map(
        response.json,
        (body) => ({ status: response.status, body: body as Readonly<Record<string, unknown>> })
      )
  )

import { assert, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { RunningEmulator } from "./utils.js"
import { admin, emulator, platform, run, tokenLike } from "./utils.js"

class Dhl extends Context.Tag("test/Dhl")<Dhl, RunningEmulator>() {}
class OAuth extends Context.Tag("test/OAuth")<OAuth, RunningEmulator>() {}

const secret = "dhl-s3cr3t-Vb2"
const oauthSecret = "app-s3cr3t-Pw8"
const Emulators = Layer.merge(
  Layer.scoped(Dhl, emulator(["--provider", "dhl", "--client", `tracking:${secret}`])),
  Layer.scoped(OAuth, emulator(["--provider", "oauth", "--client", `app:${oauthSecret}`]))
).pipe(Layer.provideMerge(platform))

/** One request as the echo API received it; `authorization` only says whether it carried a bearer token. */
interface Echoed {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly bearer: boolean
  readonly body: string
}

/**
 * An API on a local port that answers every request with what it received (no token: `bearer` says whether one
 * came), for `call oauth --base-url`: the emulators' APIs answer the same body whatever the headers.
 */
const echoApi = Effect.acquireRelease(
  Effect.async<{ readonly baseUrl: string; readonly server: Http.Server }>((resume) => {
    const server = Http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        // The token is left out, and so are the trace headers the client adds (hex ids that look like tokens).
        const { authorization, b3: _b3, traceparent: _traceparent, ...headers } = request.headers
        const echoed: Echoed = {
          method: request.method ?? "",
          url: request.url ?? "",
          headers,
          bearer: /^Bearer \S+$/.test(authorization ?? ""),
          body: Buffer.concat(chunks).toString("utf8")
        }
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(echoed))
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as AddressInfo
      resume(Effect.succeed({ baseUrl: `http://127.0.0.1:${address.port}`, server }))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

const env = (baseUrl: string) => ({
  DHL_ECOMMERCE_ENVIRONMENT: "sandbox",
  DHL_ECOMMERCE_BASE_URL: baseUrl,
  DHL_ECOMMERCE_CLIENT_ID: "tracking",
  DHL_ECOMMERCE_CLIENT_SECRET: secret
})

const stats = (baseUrl: string) =>
  Effect.map(admin(baseUrl, "/stats", undefined, "GET"), (reply) => reply.body as Record<string, number>)

layer(Emulators, { timeout: 120_000 })("effect-oauth call", (it) => {
  it.effect("prints status, headers and body of one authorized call", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Dhl
      yield* admin(baseUrl, "/faults", undefined, "DELETE")
      const result = yield* run(["call", "dhl", "GET", "/tracking/v4/package?trackingId=GM123"], { env: env(baseUrl) })
      assert.strictEqual(result.exitCode, 0, result.stderr)
      const [status, ...rest] = result.stdout.split("\n")
      assert.strictEqual(status, "HTTP 200")
      assert.include(rest, "content-type: application/json")
      const body = JSON.parse(rest[rest.indexOf("") + 1]!)
      assert.deepStrictEqual(body, {
        success: true,
        path: "/tracking/v4/package",
        method: "GET",
        client_id: "tracking"
      })
      assert.notMatch(result.stdout, tokenLike)
      assert.notInclude(result.stdout + result.stderr, secret)
    }), 120_000)

  it.effect(
    "a revoked token: one 401, one new token, the call replayed and answered 200",
    () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Dhl
        yield* admin(baseUrl, "/faults", undefined, "DELETE")
        const before = yield* stats(baseUrl)
        yield* admin(baseUrl, "/faults", { type: "revoked" })
        const result = yield* run(
          ["call", "dhl", "POST", "/shipping/v4/label", "--data", "{\"parcel\":1}", "--json", "--verbose"],
          { env: env(baseUrl) }
        )
        assert.strictEqual(result.exitCode, 0, result.stderr)
        const reply = JSON.parse(result.stdout)
        assert.strictEqual(reply.status, 200)
        assert.strictEqual(reply.body.method, "POST")
        const after = yield* stats(baseUrl)
        assert.strictEqual(after["tokensIssued"]! - before["tokensIssued"]!, 2)
        assert.strictEqual(after["resourceRequests"]! - before["resourceRequests"]!, 2)
        assert.strictEqual(after["resourceRejections"]! - before["resourceRejections"]!, 1)
        assert.match(result.stderr, /invalidated/) // --verbose shows the library's log line
        assert.notMatch(result.stdout + result.stderr, tokenLike)
        assert.notInclude(result.stdout + result.stderr, secret)
      }),
    120_000
  )

  it.effect("--header and -H add request headers: the DHL API accepts the call", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Dhl
      yield* admin(baseUrl, "/faults", undefined, "DELETE")
      const result = yield* run(
        [
          "call",
          "dhl",
          "GET",
          "/tracking/v4/package",
          "--header",
          "X-Request-Id: req-42",
          "-H",
          "Accept:application/json",
          "--json"
        ],
        { env: env(baseUrl) }
      )
      assert.strictEqual(result.exitCode, 0, result.stderr)
      const reply = JSON.parse(result.stdout)
      assert.strictEqual(reply.status, 200)
      assert.deepStrictEqual(reply.body, {
        success: true,
        path: "/tracking/v4/package",
        method: "GET",
        client_id: "tracking"
      })
    }), 120_000)

  it.scoped(
    "--header reaches the API with the token beside it; a Content-Type header overrides the one --data implies",
    () =>
      Effect.gen(function*() {
        const oauth = yield* OAuth
        const api = yield* echoApi
        const oauthEnv = {
          OAUTH_CLIENT_ID: "app",
          OAUTH_CLIENT_SECRET: oauthSecret,
          OAUTH_TOKEN_URL: `${oauth.baseUrl}/oauth/token`
        }
        const result = yield* run(
          [
            "call",
            "oauth",
            "POST",
            "/orders?x=1",
            "--base-url",
            api.baseUrl,
            "--header",
            "X-Request-Id: req-42",
            "-H",
            "X-Tenant:  acme ",
            "-H",
            "Content-Type: application/vnd.acme+json",
            "-d",
            "{\"order\":1}",
            "--json"
          ],
          { env: oauthEnv }
        )
        assert.strictEqual(result.exitCode, 0, result.stderr)
        const reply = JSON.parse(result.stdout)
        assert.strictEqual(reply.status, 200)
        const echoed = reply.body as Echoed
        assert.strictEqual(echoed.method, "POST")
        assert.strictEqual(echoed.url, "/orders?x=1")
        assert.isTrue(echoed.bearer)
        assert.strictEqual(echoed.headers["x-request-id"], "req-42")
        assert.strictEqual(echoed.headers["x-tenant"], "acme") // the value trimmed
        assert.strictEqual(echoed.headers["content-type"], "application/vnd.acme+json")
        assert.strictEqual(echoed.body, "{\"order\":1}")
        assert.notMatch(result.stdout, tokenLike)
        assert.notInclude(result.stdout + result.stderr, oauthSecret)

        // Without a Content-Type header, --data that parses as JSON goes as application/json, else text/plain.
        for (const [data, type] of [["{\"order\":1}", "application/json"], ["order 1", "text/plain"]] as const) {
          const plain = yield* run([
            "call",
            "oauth",
            "PUT",
            "/orders/1",
            "--base-url",
            api.baseUrl,
            "-d",
            data,
            "--json"
          ], {
            env: oauthEnv
          })
          assert.strictEqual(plain.exitCode, 0, plain.stderr)
          const body = JSON.parse(plain.stdout).body as Echoed
          assert.strictEqual(String(body.headers["content-type"]).split(";")[0], type)
          assert.strictEqual(body.body, data)
        }
      }),
    120_000
  )

  it.effect("a malformed --header exits 2 with one line, before any request", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Dhl
      const before = yield* stats(baseUrl)
      for (const header of ["no-colon", ": empty name", "Bad Name: x"]) {
        const result = yield* run(["call", "dhl", "GET", "/x", "-H", header], { env: env(baseUrl) })
        assert.strictEqual(result.exitCode, 2, result.stderr)
        assert.strictEqual(result.stdout, "")
        assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1, result.stderr)
        assert.match(result.stderr, /^effect-oauth call: --header takes "Name: value"/)
      }
      const after = yield* stats(baseUrl)
      assert.strictEqual(after["tokenRequests"], before["tokenRequests"])
    }), 120_000)

  it.effect("exit 7 when the API refuses the fresh token too", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Dhl
      yield* admin(baseUrl, "/faults", undefined, "DELETE")
      yield* admin(baseUrl, "/faults", { type: "revoked", times: 2 })
      const result = yield* run(["call", "dhl", "GET", "/tracking/v4/package"], { env: env(baseUrl) })
      assert.strictEqual(result.exitCode, 7, result.stderr)
      assert.strictEqual(result.stdout, "")
      assert.match(result.stderr, /^effect-oauth call: AccessTokenRejected: GET .*\/tracking\/v4\/package .*401/)
      assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1)
    }), 120_000)

  it.effect(
    "usage errors exit 2 with one line: a bad method, a header carrying a token, a flag of another provider",
    () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Dhl
        const cases = [
          [["call", "dhl", "get", "/x"], /METHOD must be upper case/],
          [["call", "dhl", "GET", "/x", "-H", "Authorization: Bearer abc"], /the token is added by the client/],
          [["call", "dhl", "GET", "/x", "--region", "us2"], /--region does not apply to dhl/],
          [["call", "dhl", "GET", "https://elsewhere.example/x"], /relative to the API base URL/]
        ] as const
        for (const [args, message] of cases) {
          const result = yield* run(args, { env: env(baseUrl) })
          assert.strictEqual(result.exitCode, 2, result.stderr)
          assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1)
          assert.match(result.stderr, message)
        }
      }),
    120_000
  )
})

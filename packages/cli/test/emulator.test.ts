import { assert, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { RunningEmulator } from "./utils.js"
import { admin, emulator, platform, run, tokenLike, waitForLines } from "./utils.js"

class OAuth extends Context.Tag("test/OAuth")<OAuth, RunningEmulator>() {}

const secret = "app-s3cr3t-Lm4"
const Emulators = Layer.scoped(
  OAuth,
  emulator(["--provider", "oauth", "--client", `app:${secret}`, "--lifetime", "15m", "--one-token-per-client"])
).pipe(Layer.provideMerge(platform))

const token = (baseUrl: string, clientSecret = secret) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}/oauth/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: "app", client_secret: clientSecret })
    })
    return { status: response.status, body: await response.json() as Record<string, unknown> }
  })

const api = (baseUrl: string, accessToken: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}/api/orders`, { headers: { authorization: `Bearer ${accessToken}` } })
    return { status: response.status, body: await response.json() as Record<string, unknown> }
  })

layer(Emulators, { timeout: 120_000 })("effect-oauth emulator", (it) => {
  it.effect("prints where it listens, its admin API and its options", () =>
    Effect.gen(function*() {
      const { baseUrl, lines } = yield* OAuth
      assert.strictEqual(lines[0], `rfc6749 emulator listening on ${baseUrl}`)
      const header = lines.join("\n")
      assert.include(header, `POST ${baseUrl}/oauth/token`)
      assert.include(header, "tokens live     15 min, one per client")
      assert.include(header, `admin API       ${baseUrl}/_emulator\n`)
      assert.include(header, "POST /clients/<id>/revoke | expire | secret")
      assert.notInclude(header, secret)
    }))

  it.effect("the admin API revokes and expires a client's tokens, regenerates its secret and queues faults", () =>
    Effect.gen(function*() {
      const { baseUrl, lines } = yield* OAuth
      const first = (yield* token(baseUrl)).body
      assert.strictEqual(first["expires_in"], 900)
      assert.strictEqual((yield* api(baseUrl, first["access_token"])).status, 200)
      assert.deepStrictEqual((yield* admin(baseUrl, "/clients/app/revoke")).body, { clientId: "app", revoked: 1 })
      const revoked = yield* api(baseUrl, first["access_token"])
      assert.deepStrictEqual([revoked.status, revoked.body["error_description"]], [401, "The access token was revoked"])

      const second = (yield* token(baseUrl)).body
      assert.deepStrictEqual((yield* admin(baseUrl, "/clients/app/expire")).body, { clientId: "app", expired: 1 })
      assert.strictEqual(
        (yield* api(baseUrl, second["access_token"])).body["error_description"],
        "The access token expired"
      )

      yield* admin(baseUrl, "/faults", { type: "status", status: 429, retryAfter: 3 })
      const limited = yield* token(baseUrl)
      assert.deepStrictEqual([limited.status, limited.body["error"]], [429, "temporarily_unavailable"])
      assert.strictEqual((yield* token(baseUrl)).status, 200) // the fault applied once

      const rotated = (yield* admin(baseUrl, "/clients/app/secret", { secret: "rotated-Zx9" })).body
      assert.deepStrictEqual(rotated, { clientId: "app", secret: "rotated-Zx9" })
      assert.strictEqual((yield* token(baseUrl)).status, 401)
      assert.strictEqual((yield* token(baseUrl, "rotated-Zx9")).status, 200)
      yield* admin(baseUrl, "/clients/app/secret", { secret })

      const stats = (yield* admin(baseUrl, "/stats", undefined, "GET")).body
      assert.strictEqual(stats.tokensIssued, 4)
      assert.strictEqual(stats.resourceRejections, 2)

      // One line per request, tokens by serial number: never a token or a secret.
      const log = [
        "POST /oauth/token client=app auth=post body=form → 200 token #1 issued, lives 900 s",
        "GET /api/orders token #1 of app → 200",
        "POST /_emulator/clients/app/revoke → 200",
        "GET /api/orders token #1 of app → 401 (revoked)",
        "POST /_emulator/clients/app/expire → 200",
        "GET /api/orders token #2 of app → 401 (expired)",
        "POST /oauth/token client=app auth=post body=form fault=Status → 429",
        "POST /oauth/token client=app auth=post body=form → 401",
        "GET /_emulator/stats → 200"
      ]
      yield* waitForLines(lines, log).pipe(Effect.orDie)
      const printed = lines.join("\n")
      for (const value of [secret, "rotated-Zx9", String(first["access_token"]), String(second["access_token"])]) {
        assert.notInclude(printed, value)
      }
      assert.notMatch(printed, tokenLike)
    }))

  it.effect("token oauth reads OAUTH_* with flags over them; --scope is sent", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* OAuth
      const result = yield* run(["token", "oauth", "--token-url", `${baseUrl}/oauth/token`, "--json"], {
        env: { OAUTH_CLIENT_ID: "app", OAUTH_CLIENT_SECRET: secret, OAUTH_AUTH_METHOD: "client_secret_post" }
      })
      assert.strictEqual(result.exitCode, 0, result.stderr)
      const body = JSON.parse(result.stdout)
      assert.strictEqual(body.lifetimeSeconds, 900)
      assert.strictEqual(body.serverClockSkewMillis, null) // no created_at outside Bringg

      // --scope reaches the token request: this client may request no scope, so the server refuses it.
      const scoped = yield* run(["token", "oauth", "--token-url", `${baseUrl}/oauth/token`, "--scope", "orders:read"], {
        env: { OAUTH_CLIENT_ID: "app", OAUTH_CLIENT_SECRET: secret }
      })
      assert.strictEqual(scoped.exitCode, 6, scoped.stderr)
      assert.match(scoped.stderr, /^effect-oauth token: TokenRequestRejected: .*invalid_scope/)
    }), 120_000)

  it.effect(
    "token oauth --auth-method and --encoding decide how the credentials travel, over OAUTH_AUTH_METHOD",
    () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* OAuth
        // The RFC 6749 emulator takes form or JSON bodies and refuses multipart (Bringg's encoding) with a 400:
        // exit 6, but the request it recorded shows the flag was applied.
        const cases = [
          ["client_secret_post", "form", "post", 0],
          ["client_secret_basic", "form", "basic", 0],
          ["client_secret_basic_plain", "json", "basic", 0],
          ["client_secret_post", "multipart", "post", 6]
        ] as const
        for (const [method, encoding, seen, code] of cases) {
          const before = ((yield* admin(baseUrl, "/requests", undefined, "GET")).body as Array<unknown>).length
          const result = yield* run(
            [
              "token",
              "oauth",
              "--token-url",
              `${baseUrl}/oauth/token`,
              "--auth-method",
              method,
              "--encoding",
              encoding
            ],
            {
              env: {
                OAUTH_CLIENT_ID: "app",
                OAUTH_CLIENT_SECRET: secret,
                // The flags win over the variables they name.
                OAUTH_AUTH_METHOD: method === "client_secret_post" ? "client_secret_basic" : "client_secret_post",
                OAUTH_ENCODING: encoding === "form" ? "json" : "form"
              }
            }
          )
          assert.strictEqual(result.exitCode, code, `${method} ${encoding}: ${result.stderr}`)
          const requests = (yield* admin(baseUrl, "/requests", undefined, "GET")).body as Array<Record<string, any>>
          assert.strictEqual(requests.length, before + 1, method)
          const request = requests.at(-1)!
          assert.deepStrictEqual(
            [request.clientId, request.authMethod, request.encoding, request.status],
            ["app", seen, encoding, code === 0 ? 200 : 400],
            method
          )
          // The secret is in the body with client_secret_post only (the emulator masks it), else in the header.
          assert.strictEqual(request.fields.client_secret, seen === "post" ? "***" : undefined, method)
          assert.notInclude(result.stdout + result.stderr, secret)
        }
      }),
    120_000
  )

  it.effect(
    "token oauth --auth-method: a bad value, or on another provider, exits 2 with one line",
    () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* OAuth
        const before = (yield* admin(baseUrl, "/stats", undefined, "GET")).body.tokenRequests
        const cases = [
          [
            ["token", "oauth", "--auth-method", "private_key_jwt"],
            /^effect-oauth token: --auth-method: Expected one of .*"private_key_jwt"/
          ],
          [["token", "oauth", "--encoding", "xml"], /^effect-oauth token: --encoding: .*"xml"/],
          [["token", "bringg", "--auth-method", "client_secret_post"], /--auth-method does not apply to bringg/]
        ] as const
        for (const [args, message] of cases) {
          const result = yield* run(args, {
            env: {
              OAUTH_CLIENT_ID: "app",
              OAUTH_CLIENT_SECRET: secret,
              OAUTH_TOKEN_URL: `${baseUrl}/oauth/token`,
              BRINGG_BASE_URL: baseUrl,
              BRINGG_CLIENT_ID: "app",
              BRINGG_CLIENT_SECRET: secret
            }
          })
          assert.strictEqual(result.exitCode, 2, result.stderr)
          assert.strictEqual(result.stdout, "")
          assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1, result.stderr)
          assert.match(result.stderr, message)
          assert.notInclude(result.stderr, secret)
        }
        // Refused before any request.
        assert.strictEqual((yield* admin(baseUrl, "/stats", undefined, "GET")).body.tokenRequests, before)
      }),
    120_000
  )

  it.effect("bad emulator options exit 2 with one line", () =>
    Effect.gen(function*() {
      for (
        const [args, message] of [
          [["emulator", "--lifetime", "soon"], /--lifetime takes a duration/],
          [["emulator", "--client", "no-colon"], /--client takes id:secret/],
          [["emulator", "--provider", "fedex"], /fedex|one of/i]
        ] as const
      ) {
        const result = yield* run(args)
        assert.strictEqual(result.exitCode, 2, result.stderr)
        assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1, result.stderr)
        assert.match(result.stderr, message)
      }
    }), 120_000)
})

layer(platform, { timeout: 120_000 })("effect-oauth --help and usage errors", (it) => {
  it.effect(
    "--help on every command: exit 0, usage on stdout, no colour codes when piped",
    () =>
      Effect.gen(function*() {
        const help: Record<string, string> = {}
        for (const command of [[], ["token"], ["call"], ["emulator"]]) {
          const result = yield* run([...command, "--help"])
          assert.strictEqual(result.exitCode, 0, result.stderr)
          assert.strictEqual(result.stderr, "")
          assert.include(result.stdout, "USAGE")
          assert.include(result.stdout, `$ ${command[0] ?? "effect-oauth"}`)
          assert.notInclude(result.stdout, "\u001b[")
          help[command[0] ?? "root"] = result.stdout
        }
        for (const command of ["token", "call", "emulator"]) assert.include(help["root"], `- ${command} `)
        for (const flag of ["--secret-stdin", "--show-token", "--json", "--verbose", "--token-url", "--scope"]) {
          assert.include(help["token"], flag)
        }
        for (const flag of ["--data", "--header", "<METHOD>", "<path>"]) assert.include(help["call"], flag)
        for (const flag of ["--client", "--lifetime", "--one-token-per-client", "--port"]) {
          assert.include(help["emulator"], flag)
        }
      }),
    120_000
  )

  it.effect(
    "a bad flag, an unknown command or a secret on the command line: one line, exit 2",
    () =>
      Effect.gen(function*() {
        const cases = [
          [["token", "bringg", "--nope"], "effect-oauth token: Received unknown argument: '--nope'"],
          [["token", "bringg", "--client-secret", "s3cr3t-on-argv"], "--client-secret"],
          [["fetch"], "effect-oauth: Invalid subcommand"],
          [[], "effect-oauth: missing command: token, call or emulator"]
        ] as const
        for (const [args, message] of cases) {
          const result = yield* run(args)
          assert.strictEqual(result.exitCode, 2, result.stderr)
          assert.strictEqual(result.stdout, "")
          assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1, result.stderr)
          assert.include(result.stderr, message)
          assert.notInclude(result.stderr, "s3cr3t-on-argv")
        }
      }),
    120_000
  )
})

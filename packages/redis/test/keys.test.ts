import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Keys from "../src/internal/keys.js"

const shape = /^effect-oauth:\{[^{}\s]+;[0-9a-f]{16}\}:(token|lease|changes)$/

describe("Redis key names", () => {
  it.effect("name the token URL's host and path, the client id and the scope, under the prefix, in one hash slot", () =>
    Effect.gen(function*() {
      const names = yield* Keys.names(
        "effect-oauth:",
        "https://auth.example.com/oauth/token client_id=app-1 scope=orders%3Aread+orders%3Awrite"
      )
      assert.match(
        names.token,
        /^effect-oauth:\{auth\.example\.com\/oauth\/token;client_id=app-1;scope=orders%3Aread\+orders%3Awrite;[0-9a-f]{16}\}:token$/
      )
      for (const name of [names.token, names.lease, names.channel]) assert.match(name, shape)
    }))

  it.effect("escape spaces, braces, control and non-ASCII characters, bound the length, and stay unique", () =>
    Effect.gen(function*() {
      const long = "x".repeat(500)
      const keys = [
        "manager {name}\twith\nodd \"chars\" é 東京",
        `https://auth.example.com/${long} client_id=a`,
        `https://auth.example.com/${long} client_id=b`,
        "http://auth.example.com/oauth/token client_id=a",
        "https://auth.example.com/oauth/token client_id=a"
      ]
      const names = yield* Effect.forEach(keys, (key) => Keys.names("effect-oauth:", key))
      for (const { token } of names) {
        assert.match(token, shape)
        assert.isBelow(token.length, 170)
      }
      assert.strictEqual(new Set(names.map((n) => n.token)).size, keys.length)
      assert.include(names[0]!.token, "%7Bname%7D%09with%0Aodd;%22chars%22;%C3%A9;%E6%9D%B1")
    }))
})

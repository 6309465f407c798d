import { assert, describe, it } from "@effect/vitest"
import * as fc from "effect/FastCheck"
import { listedOrigins } from "../src/internal/authorizedClient.js"

const origins: ReadonlySet<string> = new Set(["https://api.example.com", "http://127.0.0.1:8080"])

// The reference: parse the whole URL, every time.
const parsed = (url: string): boolean => {
  try {
    return origins.has(new URL(url).origin)
  } catch {
    return false
  }
}

const piece = fc.constantFrom(
  "https://",
  "http://",
  "HTTPS://",
  "ftp://",
  "javascript:",
  "//",
  "/",
  "\\",
  "?",
  "#",
  "@",
  ":",
  ":443",
  ":8080",
  ".",
  "%2e",
  " ",
  "\t",
  "\n",
  "\u0000",
  "é",
  "api.example.com",
  "API.Example.COM",
  "127.0.0.1",
  "evil.com",
  "user:pass@",
  "x"
)

describe("AuthorizedClient origin check", () => {
  it("decides as a full URL parse would, for any URL, also when the decision comes from the cache", () => {
    const isListed = listedOrigins(origins)
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join("")), fc.string(), (url, tail) => {
        for (const candidate of [url, url + tail, url + "/" + tail]) {
          // Twice: the first call fills the cache, the second reads it.
          assert.strictEqual(isListed(candidate), parsed(candidate), candidate)
          assert.strictEqual(isListed(candidate), parsed(candidate), candidate)
        }
      }),
      { numRuns: 5_000, seed: 20261124 }
    )
  })

  it("known traps: look-alike hosts, userinfo, backslashes, default ports and case", () => {
    const isListed = listedOrigins(origins)
    const cases: ReadonlyArray<readonly [string, boolean]> = [
      ["https://api.example.com/v1/items?x=1", true],
      ["https://API.example.com:443/v1", true],
      ["https://api.example.com.evil.com/v1", false],
      ["https://evil.com@api.example.com/v1", true],
      ["https://api.example.com@evil.com/v1", false],
      ["https://evil.com\\@api.example.com/v1", false],
      ["https://evil.com\\api.example.com", false],
      ["http://api.example.com/v1", false],
      ["https://api.example.com:8443/v1", false],
      ["http://127.0.0.1:8080/x", true],
      ["/v1/items", false],
      ["api.example.com/v1", false]
    ]
    for (const [url, listed] of cases) {
      assert.strictEqual(isListed(url), listed, url)
      assert.strictEqual(isListed(url), listed, url)
    }
  })

  it("decisions stay right when many hosts churn through the bounded cache", () => {
    const isListed = listedOrigins(origins)
    for (let i = 0; i < 10_000; i++) assert.isFalse(isListed(`https://host-${i}.example.com/x`))
    assert.isTrue(isListed("https://api.example.com/x"))
  })
})

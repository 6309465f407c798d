import { assert, describe, it } from "@effect/vitest"
import * as BringgProvider from "../src/BringgProvider.js"

describe("BringgProvider", () => {
  it("the regions' hosts (Bringg's OAuth 2.0 URLs)", () => {
    assert.deepStrictEqual(BringgProvider.regions, {
      us2: "https://us2-admin-api.bringg.com",
      us3: "https://us3-api.bringg.com",
      eu2: "https://eu2-admin-api.bringg.com",
      eu3: "https://eu3-admin-api.bringg.com",
      app: "https://app.bringg.com"
    })
  })

  it("a region: token at <host>/oauth/token, API at <host>, multipart body with the credentials by default", () => {
    assert.deepStrictEqual(BringgProvider.make({ region: "eu3" }), {
      name: "bringg",
      tokenUrl: "https://eu3-admin-api.bringg.com/oauth/token",
      apiBaseUrl: "https://eu3-admin-api.bringg.com",
      authMethod: "client_secret_post",
      encoding: "multipart"
    })
    const providers = [
      BringgProvider.us2,
      BringgProvider.us3,
      BringgProvider.eu2,
      BringgProvider.eu3,
      BringgProvider.app
    ]
    assert.deepStrictEqual(providers.map((provider) => provider.tokenUrl), [
      "https://us2-admin-api.bringg.com/oauth/token",
      "https://us3-api.bringg.com/oauth/token",
      "https://eu2-admin-api.bringg.com/oauth/token",
      "https://eu3-admin-api.bringg.com/oauth/token",
      "https://app.bringg.com/oauth/token"
    ])
  })

  it("a custom base URL, with or without a path or a trailing slash, as a string or a URL", () => {
    const urls = (baseUrl: string | URL) => {
      const provider = BringgProvider.make({ baseUrl })
      return [provider.tokenUrl, provider.apiBaseUrl]
    }
    assert.deepStrictEqual(urls("https://sandbox.example.com/"), [
      "https://sandbox.example.com/oauth/token",
      "https://sandbox.example.com"
    ])
    assert.deepStrictEqual(urls(new URL("https://sandbox.example.com")), [
      "https://sandbox.example.com/oauth/token",
      "https://sandbox.example.com"
    ])
    assert.deepStrictEqual(urls("https://gateway.example.com/bringg//"), [
      "https://gateway.example.com/bringg/oauth/token",
      "https://gateway.example.com/bringg"
    ])
  })

  it("the wire format is selectable", () => {
    const provider = BringgProvider.make({ region: "us2" }, { encoding: "json", authMethod: "client_secret_basic" })
    assert.deepStrictEqual([provider.encoding, provider.authMethod], ["json", "client_secret_basic"])
  })
})

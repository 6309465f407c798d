import type { ViteUserConfig } from "vitest/config"

// Shared by every package's vitest.config.ts: resolve workspace packages to their TypeScript sources.
const config: ViteUserConfig = {
  resolve: {
    conditions: ["@effect-oauth/source"]
  },
  ssr: {
    resolve: {
      conditions: ["@effect-oauth/source"]
    }
  },
  test: {
    include: ["test/**/*.test.ts"],
    fakeTimers: { toFake: undefined },
    sequence: { concurrent: false },
    testTimeout: 30_000
  }
}

export default config

// `axios-token-interceptor` ships no types: the part of its API the bench uses, from its README and index.js.
declare module "axios-token-interceptor" {
  import type { InternalAxiosRequestConfig } from "axios"

  interface Options<T> {
    readonly token?: string
    readonly getToken?: () => T | Promise<T>
    readonly header?: string
    readonly headerFormatter?: (token: T) => string
  }

  interface Cache<T> {
    (): Promise<T>
    readonly reset: () => void
  }

  interface TokenProvider {
    <T>(options: Options<T>): (config: InternalAxiosRequestConfig) => Promise<InternalAxiosRequestConfig>
    readonly tokenCache: <T>(
      getToken: () => Promise<T>,
      options: { readonly maxAge?: number; readonly getMaxAge?: (token: T) => number }
    ) => Cache<T>
  }

  const tokenProvider: TokenProvider
  export default tokenProvider
}

// `undici-oidc-interceptor` ships no types: its client-credentials options, from its README and source.
declare module "undici-oidc-interceptor" {
  import type { Dispatcher } from "undici"

  interface Options {
    readonly clientId: string
    readonly clientSecret?: string
    readonly idpTokenUrl: string
    readonly retryOnStatusCodes?: ReadonlyArray<number>
    readonly urls?: ReadonlyArray<string>
    readonly accessToken?: string
    readonly scope?: string
  }

  export const createOidcInterceptor: (options: Options) => Dispatcher.DispatcherComposeInterceptor
}

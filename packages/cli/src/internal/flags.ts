import * as Args from "@effect/cli/Args"
import * as Options from "@effect/cli/Options"
import { providerNames } from "./credentials.js"

/** The provider argument of `token` and `call`. */
export const providerArg = Args.choice(providerNames.map((name) => [name, name] as const), { name: "provider" }).pipe(
  Args.withDescription(
    "bringg (BRINGG_* variables), dhl (DHL_ECOMMERCE_* variables) or oauth (any RFC 6749 server, OAUTH_* variables)"
  )
)

const text = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/** The flags naming an app; each one replaces the environment variable it names. */
export const appFlags = {
  clientId: text("client-id", "The client id (else <PREFIX>_CLIENT_ID)"),
  secretStdin: Options.boolean("secret-stdin").pipe(
    Options.withDescription(
      "Read the client secret from the first line of standard input (else <PREFIX>_CLIENT_SECRET, else a hidden prompt on a terminal)"
    )
  ),
  region: text("region", "bringg: us2, us3, eu2, eu3 or app (else BRINGG_REGION)"),
  baseUrl: text(
    "base-url",
    "The API base URL: bringg (else BRINGG_BASE_URL), dhl (else DHL_ECOMMERCE_BASE_URL), oauth (else OAUTH_API_URL, " +
      "default: the token URL's origin)"
  ),
  ttl: Options.integer("ttl").pipe(
    Options.withDescription("bringg: the token lifetime to ask for, in seconds (else BRINGG_TTL)"),
    Options.optional
  ),
  environment: text("environment", "dhl: sandbox or production (else DHL_ECOMMERCE_ENVIRONMENT)"),
  tokenUrl: text("token-url", "oauth: the token endpoint (else OAUTH_TOKEN_URL)"),
  authMethod: text(
    "auth-method",
    "oauth: client_secret_basic (default), client_secret_basic_plain or client_secret_post (else OAUTH_AUTH_METHOD)"
  ),
  encoding: text("encoding", "oauth: the token request body, form (default), multipart or json (else OAUTH_ENCODING)"),
  scope: text("scope", "oauth: the scope to request, space-separated (else OAUTH_SCOPE)")
}

/** `--json`: one JSON object on standard output. */
export const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object, for scripts"))

/** `--verbose`: the library's log lines and the error's details on standard error. */
export const verbose = Options.boolean("verbose").pipe(
  Options.withDescription("Print the library's log lines and an error's details on standard error")
)

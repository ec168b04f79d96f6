/**
 * The tests' real OpenID Provider on 127.0.0.1: the sandbox's embedded provider
 * (src/tools/sandbox/start-oidc-provider.ts, `oidc-provider` v9 issuing RFC 9068 `at+jwt` access
 * tokens by client credentials), under the names the tests have always used. Tests must `close()`
 * the fixture.
 */

export {
  type OidcProviderClient,
  type OidcSigningAlg,
  type RunningOidcProvider as OidcProviderFixture,
  type StartOidcProviderOptions,
  OIDC_PROVIDER_AUDIENCE as OIDC_FIXTURE_AUDIENCE,
  startOidcProvider,
} from '../../src/tools/sandbox/start-oidc-provider.ts';

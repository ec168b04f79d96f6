/**
 * The https agent of a private CA bundle: its connections trust Node's default CAs plus the bundle's
 * certificates. A dedicated agent, not the global one, so a kept-alive socket verified with the bundle
 * is never reused by a fetch without it; its options mirror Node's global agent.
 */

import type * as Https from 'node:https';
import type { CaBundle } from './ca-bundle.ts';

/**
 * One agent per bundle, made on its first https fetch: its secure context parses every certificate,
 * so it is built once and shared by all the agent's connections.
 */
const agents = new WeakMap<CaBundle, Https.Agent>();

export function agentFor(bundle: CaBundle): Https.Agent {
  const existing = agents.get(bundle);
  if (existing !== undefined) return existing;
  const tls = process.getBuiltinModule('node:tls');
  const { Agent } = process.getBuiltinModule('node:https');
  // Node's `ca` option replaces the default CAs instead of adding to them
  // (https://nodejs.org/api/cli.html#node_extra_ca_certsfile), so the list starts with the defaults:
  // getCACertificates('default') where Node has it (22.15+, with NODE_EXTRA_CA_CERTS), else
  // rootCertificates (https://nodejs.org/api/tls.html#tlsgetcacertificatestype).
  const defaults =
    typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : tls.rootCertificates;
  const secureContext = tls.createSecureContext({
    ca: [...defaults, ...bundle.certificates.map((certificate) => certificate.pem)],
  });
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5_000, secureContext });
  agents.set(bundle, agent);
  return agent;
}

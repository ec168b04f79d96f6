/**
 * The https agent of a private CA bundle: its connections trust Node's default CAs plus the
 * bundle's certificates. Node's `ca` option replaces the default CAs instead of adding to them
 * ("Neither the well known nor extra certificates are used when the ca options property is
 * explicitly specified", https://nodejs.org/api/cli.html#node_extra_ca_certsfile), so the list is
 * the defaults — `tls.getCACertificates('default')` where Node has it (22.15+: the bundled roots
 * plus NODE_EXTRA_CA_CERTS), else `tls.rootCertificates` (https://nodejs.org/api/tls.html#tlsgetcacertificatestype)
 * — followed by the bundle. Building that secure context parses every certificate (~10 ms on Node
 * 24, measured), so it is built once per bundle, on the first https fetch, and every connection of
 * the agent shares it. A dedicated agent, not the global one: a kept-alive socket verified with the
 * bundle is never reused by a fetch without it. Its options mirror Node's global agent (keep-alive,
 * 5 s idle timeout).
 */

import type * as Https from 'node:https';
import type { CaBundle } from './ca-bundle.ts';

const agents = new WeakMap<CaBundle, Https.Agent>();

export function agentFor(bundle: CaBundle): Https.Agent {
  const existing = agents.get(bundle);
  if (existing !== undefined) return existing;
  const tls = process.getBuiltinModule('node:tls');
  const { Agent } = process.getBuiltinModule('node:https');
  const defaults =
    typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : tls.rootCertificates;
  const secureContext = tls.createSecureContext({
    ca: [...defaults, ...bundle.certificates.map((certificate) => certificate.pem)],
  });
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5_000, secureContext });
  agents.set(bundle, agent);
  return agent;
}

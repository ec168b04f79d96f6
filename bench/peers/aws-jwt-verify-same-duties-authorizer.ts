/**
 * Peer for `npm run bench`: the minimal aws-jwt-verify authorizer given the duties ours has at a cold
 * start, so the two cold starts can be compared like for like: the configuration validated with our
 * schema (AUTHORIZER_CONFIG), the keys fetched during init (`hydrate`, as our init prefetch does),
 * one log line when the configuration loads and one JSON audit line per decision. Measured, never
 * shipped.
 */
import { writeSync } from 'node:fs';
import { JwtVerifier } from 'aws-jwt-verify';
import { parseConfigText } from '../../src/config/schema.ts';

const parsed = parseConfigText(process.env['AUTHORIZER_CONFIG'] ?? '');
if (!parsed.ok) throw new Error('peer: invalid configuration');
const issuer = parsed.config.issuers[0]!;
const rule = parsed.config.rules[0]!;
const log = (record: Record<string, unknown>) => writeSync(1, `${JSON.stringify(record)}\n`);
log({ ts: new Date().toISOString(), level: 'INFO', message: 'configuration loaded' });

const verifier = JwtVerifier.create({
  issuer: issuer.issuer,
  audience: typeof issuer.audience === 'string' ? issuer.audience : (issuer.audience ?? null),
  jwksUri: issuer.jwksUri ?? '',
});
await verifier.hydrate();

export const handler = async (event: { bearerToken?: string; datastoreId?: string; operation?: string }) => {
  const started = Date.now();
  let answer = { isTokenValid: false, roleArn: '' };
  let sub: unknown;
  try {
    const payload = await verifier.verify(event.bearerToken ?? '');
    sub = payload.sub;
    const scope = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    answer = { isTokenValid: true, roleArn: scope.includes('read') ? rule.roleArn : '' };
  } catch {
    // denied
  }
  log({
    ts: new Date().toISOString(),
    level: 'INFO',
    message: 'authorization decision',
    decision: answer.roleArn ? 'allow' : 'deny',
    datastoreId: event.datastoreId,
    operation: event.operation,
    sub,
    latencyMs: Date.now() - started,
  });
  return answer;
};

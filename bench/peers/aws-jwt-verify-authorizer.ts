/**
 * Peer for `npm run bench`: the smallest sensible HealthImaging authorizer on aws-jwt-verify
 * (JwtVerifier with issuer, audience and JWKS URI; scope → role). It is what a team would write by
 * hand; it is measured, never shipped.
 */
import { JwtVerifier } from 'aws-jwt-verify';

const verifier = JwtVerifier.create({
  issuer: process.env['PEER_ISSUER'] ?? '',
  audience: process.env['PEER_AUDIENCE'] ?? '',
  jwksUri: process.env['PEER_JWKS_URI'] ?? '',
});
const ROLE = process.env['PEER_ROLE'] ?? '';

export const handler = async (event: { bearerToken?: string }) => {
  try {
    const payload = await verifier.verify(event.bearerToken ?? '');
    const scope = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    return { isTokenValid: true, roleArn: scope.includes('read') ? ROLE : '' };
  } catch {
    return { isTokenValid: false, roleArn: '' };
  }
};

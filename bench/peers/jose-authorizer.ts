/**
 * Peer for `npm run bench`: the smallest sensible HealthImaging authorizer on plain jose
 * (createRemoteJWKSet + jwtVerify with issuer, audience, RS256; scope → role). Measured, never shipped.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';

const jwks = createRemoteJWKSet(new URL(process.env['PEER_JWKS_URI'] ?? 'https://invalid.example'));
const ROLE = process.env['PEER_ROLE'] ?? '';

export const handler = async (event: { bearerToken?: string }) => {
  try {
    const { payload } = await jwtVerify(event.bearerToken ?? '', jwks, {
      issuer: process.env['PEER_ISSUER'] ?? '',
      audience: process.env['PEER_AUDIENCE'] ?? '',
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'iat'],
    });
    const scope = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    return { isTokenValid: true, roleArn: scope.includes('read') ? ROLE : '' };
  } catch {
    return { isTokenValid: false, roleArn: '' };
  }
};

/**
 * Peer for `npm run bench`: the smallest sensible HealthImaging authorizer on this project's own
 * stack, jose and @middy/core (createRemoteJWKSet + jwtVerify with issuer, audience, RS256 and the
 * required exp/iat; scope → role; middy with its defaults). The cold-start target is measured
 * against it. Measured, never shipped.
 */
import middy from '@middy/core';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const jwks = createRemoteJWKSet(new URL(process.env['PEER_JWKS_URI'] ?? 'https://invalid.example'));
const ROLE = process.env['PEER_ROLE'] ?? '';

export const handler = middy(async (event: { bearerToken?: string }) => {
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
});

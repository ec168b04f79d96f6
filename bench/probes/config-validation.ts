/**
 * Cold-start probe for `npm run bench`: only our configuration validation (the valibot schema built
 * and run once on the bench configuration), so its share of our cold start can be read off against
 * the empty probe. A minimal aws-jwt-verify authorizer has no configuration to validate.
 */
import { parseConfigText } from '../../src/config/schema.ts';

const parsed = parseConfigText(process.env['AUTHORIZER_CONFIG'] ?? '');
if (!parsed.ok) throw new Error('probe: invalid configuration');

export const handler = async () => ({ isTokenValid: false, roleArn: '' });

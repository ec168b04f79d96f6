/**
 * Cold-start probe for `npm run bench`: a handler that does nothing. Its import + call time is what
 * any bundled ESM Lambda handler costs in a fresh process here; the other probes are read against it.
 */
export const handler = async () => ({ isTokenValid: false, roleArn: '' });

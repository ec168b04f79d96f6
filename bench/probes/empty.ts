/**
 * Cold-start reference for `npm run bench`: a handler that does nothing. Its import + call time is
 * what any bundled ESM Lambda handler costs in a fresh process here.
 */
export const handler = () => Promise.resolve({ isTokenValid: false, roleArn: '' });

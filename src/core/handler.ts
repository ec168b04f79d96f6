/**
 * The Lambda entry point (`handler.handler`): one authorizer built from the function's environment,
 * writing its lines to stdout, initialised during Lambda's init phase (top-level await), so
 * provisioned-concurrency instances start with the configuration loaded and keys fetched.
 * Everything else lives in src/core/lambda/create-authorizer.ts.
 */

import { createAuthorizer } from './lambda/create-authorizer.ts';

const authorizer = createAuthorizer({ env: process.env });
await authorizer.ready;

/** Never throws, always answers inside its budget (HealthImaging: a throw is a 424, over 1 s a 408). */
export const handler = authorizer.handler;

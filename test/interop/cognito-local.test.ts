/**
 * Amazon Cognito, emulated by `cognito-local` on loopback, against the built bundle. Access tokens
 * carry `client_id` and `token_use: "access"` but no `aud`, so the issuer is bound by `clientIds`; ID
 * tokens must be refused. Its discovery document hard-codes localhost:9229, so the JWKS is pinned.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHandler } from '../support/load-handler.ts';

const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const RO = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';

let child: ChildProcess | undefined;
let workDir: string;
let endpoint: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** One call of the Cognito user-pool JSON API. */
async function cognito<T>(action: string, body: Record<string, unknown>): Promise<T> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${action}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

async function waitUntilUp(deadlineMs: number): Promise<void> {
  for (;;) {
    try {
      await cognito('ListUserPools', { MaxResults: 1 });
      return;
    } catch (error) {
      if (Date.now() > deadlineMs) throw error;
      await new Promise((resume) => setTimeout(resume, 100));
    }
  }
}

let pool: { id: string; clientId: string; accessToken: string; idToken: string };

beforeAll(async () => {
  // cognito-local writes its `.cognito/` store into its working directory: a temporary one.
  workDir = mkdtempSync(join(tmpdir(), 'cognito-local-'));
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  const start = createRequire(import.meta.url).resolve('cognito-local/lib/bin/start.js');
  child = spawn(process.execPath, [start], {
    cwd: workDir,
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  await waitUntilUp(Date.now() + 15_000);

  const { UserPool } = await cognito<{ UserPool: { Id: string } }>('CreateUserPool', { PoolName: 'dicom' });
  const { UserPoolClient } = await cognito<{ UserPoolClient: { ClientId: string } }>('CreateUserPoolClient', {
    UserPoolId: UserPool.Id,
    ClientName: 'viewer',
  });
  await cognito('AdminCreateUser', {
    UserPoolId: UserPool.Id,
    Username: 'radiologist@example.org',
    MessageAction: 'SUPPRESS',
  });
  await cognito('AdminSetUserPassword', {
    UserPoolId: UserPool.Id,
    Username: 'radiologist@example.org',
    Password: 'Sandbox-Passw0rd!',
    Permanent: true,
  });
  await cognito('CreateGroup', { UserPoolId: UserPool.Id, GroupName: 'radiologists' });
  await cognito('AdminAddUserToGroup', {
    UserPoolId: UserPool.Id,
    Username: 'radiologist@example.org',
    GroupName: 'radiologists',
  });
  const { AuthenticationResult } = await cognito<{
    AuthenticationResult: { AccessToken: string; IdToken: string };
  }>('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: UserPoolClient.ClientId,
    AuthParameters: { USERNAME: 'radiologist@example.org', PASSWORD: 'Sandbox-Passw0rd!' },
  });
  pool = {
    id: UserPool.Id,
    clientId: UserPoolClient.ClientId,
    accessToken: AuthenticationResult.AccessToken,
    idToken: AuthenticationResult.IdToken,
  };
}, 30_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((done) => child?.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(workDir, { recursive: true, force: true });
});

function config() {
  return {
    issuers: [
      {
        issuer: `${endpoint}/${pool.id}`,
        jwksUri: `${endpoint}/${pool.id}/.well-known/jwks.json`,
        clientIds: [pool.clientId],
      },
    ],
    rules: [
      {
        name: 'cognito-radiologists',
        claims: { 'cognito:groups': 'radiologists' },
        operations: ['read'],
        roleArn: RO,
      },
    ],
  };
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

describe('Amazon Cognito tokens from cognito-local', () => {
  it('issues access tokens with client_id and token_use but no aud (the shape the config relies on)', () => {
    const claims = claimsOf(pool.accessToken);
    expect(claims).toMatchObject({
      token_use: 'access',
      client_id: pool.clientId,
      iss: `${endpoint}/${pool.id}`,
    });
    expect(claims).not.toHaveProperty('aud');
    expect(claims['cognito:groups']).toEqual(['radiologists']);
  });

  it('maps an access token to the read-only role by cognito:groups, bound by clientIds', async () => {
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config()) });
    const read = await h.invoke({
      datastoreId: DS,
      operation: 'SearchDICOMStudies',
      bearerToken: pool.accessToken,
    });
    const write = await h.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: pool.accessToken });
    expect(read).toEqual({ isTokenValid: true, roleArn: RO });
    expect(write).toEqual({ isTokenValid: true, roleArn: '' });
    expect(h.lastReason()).toBe('operation_not_permitted');
  });

  it('refuses the ID token of the same sign-in with token_type_invalid', async () => {
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config()) });
    const result = await h.invoke({
      datastoreId: DS,
      operation: 'SearchDICOMStudies',
      bearerToken: pool.idToken,
    });
    expect(claimsOf(pool.idToken)).toMatchObject({ token_use: 'id', aud: pool.clientId });
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(h.lastReason()).toBe('token_type_invalid');
  });
});

/**
 * The ARNs the deployment writes into policies, built as plain strings whenever the stack's account
 * and region are known. Plain strings matter twice: the synth-time role allowlist check can compare
 * them with the config file, and the template shows reviewers the exact resource instead of an
 * `Fn::Join`. An environment-agnostic stack (a team's own app) still works, with tokens.
 */

import { Stack, Token } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import type { IConstruct } from 'constructs';

export interface HealthImagingArns {
  partition: string;
  account: string;
  region: string;
  /** True when account, region and partition are all plain strings. */
  resolved: boolean;
  datastore(datastoreId: string): string;
  /** Every datastore in this account and region: the scope until a datastore id is known. */
  anyDatastore(): string;
  role(path: string, name: string): string;
  logGroup(name: string): string;
  parameter(name: string): string;
}

export function healthImagingArns(scope: IConstruct): HealthImagingArns {
  const stack = Stack.of(scope);
  const { account, region } = stack;
  // Stack.partition is always a token; with a concrete region the partition is a known fact.
  const knownPartition = Token.isUnresolved(region) ? undefined : RegionInfo.get(region).partition;
  const partition = knownPartition ?? stack.partition;
  const resolved = knownPartition !== undefined && !Token.isUnresolved(account);
  return {
    partition,
    account,
    region,
    resolved,
    datastore: (datastoreId) =>
      `arn:${partition}:medical-imaging:${region}:${account}:datastore/${datastoreId}`,
    anyDatastore: () => `arn:${partition}:medical-imaging:${region}:${account}:datastore/*`,
    role: (path, name) => `arn:${partition}:iam::${account}:role${path}${name}`,
    logGroup: (name) => `arn:${partition}:logs:${region}:${account}:log-group:${name}`,
    parameter: (name) =>
      `arn:${partition}:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
  };
}

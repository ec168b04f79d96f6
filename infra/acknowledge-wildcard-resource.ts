/**
 * Acknowledges one cdk-nag wildcard-resource finding (AwsSolutions-IAM5) on one policy, and only when
 * the wildcard really is among its resources: an acknowledgement that outlives its reason would hide
 * a later, unintended wildcard. The finding id is rendered the way cdk-nag renders it, so a token
 * (an environment-agnostic stack) is acknowledged as precisely as a plain ARN.
 */

import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

export function acknowledgeWildcardResource(
  policy: IConstruct,
  resources: readonly string[],
  wildcard: string,
  reason: string,
): void {
  if (!resources.includes(wildcard)) return;
  const finding = flattenCfnReference(Stack.of(policy).resolve(wildcard));
  Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${finding}]`, reason });
}

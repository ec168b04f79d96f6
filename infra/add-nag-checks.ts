/**
 * The cdk-nag packs every synth runs (docs/deployment.md): AWS Solutions, HIPAA Security, NIST
 * 800-53 rev 5 and Serverless, registered as cdk-nag v3 policy-validation plugins. Any finding
 * without an acknowledgement (`Validations.of(construct).acknowledge`, next to the construct it
 * concerns) fails `cdk synth`. Shared by the app and the tests so both check exactly the same
 * packs.
 */

import { type App, Validations } from 'aws-cdk-lib';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NIST80053R5Checks,
  type NagPack,
  ServerlessChecks,
} from 'cdk-nag';

export function nagPacks(app: App): NagPack[] {
  return [
    new AwsSolutionsChecks(app, { verbose: true }),
    new HIPAASecurityChecks(app, { verbose: true }),
    new NIST80053R5Checks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  ];
}

export function addNagChecks(app: App): NagPack[] {
  const packs = nagPacks(app);
  Validations.of(app).addPlugins(...packs);
  return packs;
}

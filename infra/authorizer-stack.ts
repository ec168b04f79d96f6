/**
 * The ready-to-deploy stack around the HealthImagingAuthorizer construct: it turns ARNs from the
 * deployment settings into constructs (the optional KMS key and alarm topic) and publishes the outputs an
 * operator needs, above all `LambdaAuthorizerArn`, the alias ARN to give the datastore. It declares;
 * it reads nothing (infra/app.ts parses context and files).
 */

import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { HealthImagingAuthorizer, type HealthImagingAuthorizerProps } from './healthimaging-authorizer.ts';

export interface AuthorizerStackProps extends StackProps {
  readonly authorizer: Omit<HealthImagingAuthorizerProps, 'logEncryptionKey' | 'alarmTopic'>;
  /** An existing KMS key for the audit log (its policy must allow CloudWatch Logs). */
  readonly kmsKeyArn?: string;
  /** An existing SNS topic for alarm notifications. */
  readonly alarmTopicArn?: string;
}

export class AuthorizerStack extends Stack {
  readonly authorizer: HealthImagingAuthorizer;

  constructor(scope: Construct, id: string, props: AuthorizerStackProps) {
    super(scope, id, {
      description: 'HealthImaging OIDC Lambda authorizer (healthimaging-oidc-authorizer)',
      ...props,
    });

    this.authorizer = new HealthImagingAuthorizer(this, 'Authorizer', {
      ...props.authorizer,
      ...(props.kmsKeyArn && { logEncryptionKey: Key.fromKeyArn(this, 'LogKey', props.kmsKeyArn) }),
      ...(props.alarmTopicArn && { alarmTopic: Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) }),
    });

    new CfnOutput(this, 'LambdaAuthorizerArn', {
      value: this.authorizer.lambdaAuthorizerArn,
      description:
        'Give this to CreateDatastore (--lambda-authorizer-arn). It is the alias ARN: a datastore can never ' +
        'change its authorizer, and new code ships behind the alias.',
    });
    new CfnOutput(this, 'FunctionName', { value: this.authorizer.function.functionName });
    if (this.authorizer.configParameter) {
      new CfnOutput(this, 'ConfigParameterName', { value: this.authorizer.configParameter.parameterName });
    }
    new CfnOutput(this, 'ChangesLogGroupName', {
      value: this.authorizer.changeWatch.logGroup.logGroupName,
      description: 'Changes to the function or its config made outside a deploy (CloudTrail records)',
    });
    new CfnOutput(this, 'AuditLogGroupName', { value: this.authorizer.logGroup.logGroupName });
    new CfnOutput(this, 'ReadOnlyRoleArn', { value: this.authorizer.roles.readOnlyRoleArn });
    new CfnOutput(this, 'ReadWriteRoleArn', { value: this.authorizer.roles.readWriteRoleArn });
    if (this.authorizer.datastore) {
      new CfnOutput(this, 'DatastoreId', { value: this.authorizer.datastore.datastoreId });
    }
  }
}

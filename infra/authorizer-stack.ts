/**
 * The ready-to-deploy stack around the HealthImagingAuthorizer construct: it turns ARNs and ids from
 * the deployment settings into constructs and publishes the outputs an operator needs, above all
 * `LambdaAuthorizerArn` (the alias ARN to give the datastore), the role ARNs and each datastore's
 * DICOMweb endpoint. It declares; it reads nothing (infra/app.ts parses context and files).
 */

import { Annotations, CfnOutput, Stack, type StackProps, Token } from 'aws-cdk-lib';
import { type ISubnet, SecurityGroup, Subnet } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DATASTORE_ID_PATTERN } from '../src/core/contract/healthimaging.ts';
import { HealthImagingAuthorizer, type HealthImagingAuthorizerProps } from './healthimaging-authorizer.ts';

/**
 * A datastore's DICOMweb base URL: what precedes `/studies` in every DICOMweb request, whose form the
 * HealthImaging developer guide gives as
 * `https://dicom-medical-imaging.<region>.amazonaws.com/datastore/<datastoreId>/studies[?query]`
 * (https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-search-studies.html). Requests
 * with a bearer token use the same paths
 * (https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-requirements.html).
 * Region and id may be deploy-time tokens.
 */
function dicomWebEndpoint(region: string, datastoreId: string): string {
  return `https://dicom-medical-imaging.${region}.amazonaws.com/datastore/${datastoreId}`;
}

/** Output ids of the DICOMweb endpoints start with this; the created datastore's ends in `CreatedDatastore`. */
const DICOMWEB_ENDPOINT_OUTPUT = 'DicomWebEndpoint';

export interface AuthorizerStackProps extends StackProps {
  readonly authorizer: Omit<
    HealthImagingAuthorizerProps,
    'logEncryptionKey' | 'alarmTopic' | 'vpcSubnets' | 'securityGroups'
  >;
  /** An existing KMS key for the audit log (its policy must allow CloudWatch Logs). */
  readonly kmsKeyArn?: string;
  /** An existing SNS topic for alarm notifications. */
  readonly alarmTopicArn?: string;
  /** Subnets to run the function in (with `vpcSecurityGroupIds`): `subnet-…` ids. */
  readonly vpcSubnetIds?: readonly string[];
  /** The function's security groups in the VPC (with `vpcSubnetIds`): `sg-…` ids. */
  readonly vpcSecurityGroupIds?: readonly string[];
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
      // Imported by id: no lookup, so synth needs no credentials.
      ...(props.vpcSubnetIds && { vpcSubnets: props.vpcSubnetIds.map((id) => this.importSubnet(id)) }),
      ...(props.vpcSecurityGroupIds && {
        securityGroups: props.vpcSecurityGroupIds.map((id) =>
          SecurityGroup.fromSecurityGroupId(this, `SecurityGroup-${id}`, id, { mutable: false }),
        ),
      }),
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
    const { datastores } = props.authorizer;
    this.addDicomWebEndpoints(datastores === '*' || datastores === undefined ? [] : datastores);
  }

  /**
   * A subnet by id. Imported without its route table (unknown without a lookup), about which CDK
   * warns; nothing here reads it: the function's VpcConfig takes the subnet id only.
   */
  private importSubnet(subnetId: string): ISubnet {
    const subnet = Subnet.fromSubnetId(this, `Subnet-${subnetId}`, subnetId);
    Annotations.of(subnet).acknowledgeWarning(
      '@aws-cdk/aws-ec2:noSubnetRouteTableId',
      'Only the subnet id is used (the function VpcConfig); its route table is never read.',
    );
    return subnet;
  }

  /**
   * One output per known datastore. A given id names its output (`DicomWebEndpoint<id>`: stable when
   * the list is reordered or grows); an id that is a deploy-time token cannot, and takes its position
   * instead. CloudFormation takes no token in a description, so only a plain id is named there.
   */
  private addDicomWebEndpoints(datastoreIds: readonly string[]): void {
    const how = 'append /studies for QIDO-RS and STOW-RS, /studies/<uid>/... for WADO-RS';
    [...new Set(datastoreIds)].forEach((datastoreId, index) => {
      const plain = !Token.isUnresolved(datastoreId) && DATASTORE_ID_PATTERN.test(datastoreId);
      new CfnOutput(this, `${DICOMWEB_ENDPOINT_OUTPUT}${plain ? datastoreId : index}`, {
        value: dicomWebEndpoint(this.region, datastoreId),
        description: `DICOMweb base URL of datastore ${plain ? datastoreId : `datastores[${index}]`} (${how})`,
      });
    });
    if (this.authorizer.datastore) {
      new CfnOutput(this, `${DICOMWEB_ENDPOINT_OUTPUT}CreatedDatastore`, {
        value: dicomWebEndpoint(this.region, this.authorizer.datastore.datastoreId),
        description: `DICOMweb base URL of the datastore this stack created, with this authorizer (${how})`,
      });
    }
  }
}

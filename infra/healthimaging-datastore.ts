/**
 * An OIDC-enabled HealthImaging datastore, created through a custom resource because CloudFormation's
 * `AWS::HealthImaging::Datastore` cannot set `lambdaAuthorizerArn`. The Provider runs
 * src/custom-resources/create-datastore.ts: CreateDatastore, then polling until ACTIVE. The datastore
 * is never deleted with the stack: it holds medical images, and its authorizer ARN never changes.
 */

import { CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Effect, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Code, Function as LambdaFunction, type Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { Construct, type IDependable } from 'constructs';
import { acknowledgeWildcardResource } from './acknowledge-wildcard-resource.ts';
import { type DatastoreOptions, datastoreOptionProblems } from './datastore-options.ts';
import { healthImagingArns } from './healthimaging-arns.ts';
import { indented, SynthError } from './synth-errors.ts';

export interface HealthImagingDatastoreProps extends DatastoreOptions {
  readonly datastoreName: string;
  /** The stable ARN HealthImaging will invoke: the authorizer's alias, never a version. */
  readonly lambdaAuthorizerArn: string;
  /** Directory holding `create-datastore.mjs` (scripts/build.mjs writes dist/custom-resources). */
  readonly codeDirectory: string;
  readonly runtime: Runtime;
  /** Log group name for the provisioning functions (CloudFormation requests and SDK errors only). */
  readonly logGroupName: string;
  readonly logRetention: RetentionDays;
  readonly logEncryptionKey: IKey;
  /**
   * Created before CreateDatastore runs: HealthImaging's invoke permissions on the authorizer, so the
   * datastore never exists without them.
   */
  readonly dependsOn?: readonly IDependable[];
}

/** A CreateDatastore option CreateDatastore would refuse. */
export class DatastoreOptionsError extends SynthError {
  override name = 'DatastoreOptionsError';
}

export class HealthImagingDatastore extends Construct {
  readonly datastoreId: string;
  readonly datastoreArn: string;
  /** The `Custom::HealthImagingDatastore` resource. */
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: HealthImagingDatastoreProps) {
    super(scope, id);
    const arns = healthImagingArns(this);
    const problems = datastoreOptionProblems(props, (value) => Token.isUnresolved(value));
    if (problems.length > 0) {
      throw new DatastoreOptionsError(
        `invalid datastore options:\n${indented(problems.map(({ option, message }) => `${option}: ${message}`))}`,
      );
    }
    const tags = props.tags && Object.keys(props.tags).length > 0 ? props.tags : undefined;

    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      retention: props.logRetention,
      encryptionKey: props.logEncryptionKey,
      // Kept with the audit trail, but not after a first create that rolled back (as the audit log).
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    const policy = new ManagedPolicy(this, 'Policy', {
      description: 'Create one HealthImaging datastore and read its status',
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['medical-imaging:CreateDatastore'],
          // CreateDatastore supports no resource type (Service Authorization Reference): "*" is the only form.
          resources: ['*'],
        }),
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['medical-imaging:GetDatastore'],
          resources: [arns.anyDatastore()],
        }),
        // HealthImaging invokes the authorizer with forward access sessions (FAS) (Lambda authorizer
        // page, "Request Processing"), and a FAS request is authorized with the permissions of the
        // principal that called HealthImaging (IAM, forward access sessions). When CreateDatastore checks
        // lambdaAuthorizerArn, that principal is this role; AWS's own CDK sample gives its CreateDatastore
        // caller lambda:InvokeFunction (on "*" there). Here exactly the alias ARN passed as
        // lambdaAuthorizerArn: not the function, no version wildcard.
        // https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-lambda.html
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html
        // https://github.com/aws-samples/aws-healthimaging-samples/blob/main/AHI-OIDC-OHIF-installer/CDK/lib/ohif-oidc-stack.ts
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['lambda:InvokeFunction'],
          resources: [props.lambdaAuthorizerArn],
        }),
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
        ...(props.kmsKeyArn ? [customerManagedKeyStatement(props.kmsKeyArn)] : []),
        ...(tags
          ? [
              // CreateDatastore with tags also authorizes medical-imaging:TagResource on the new
              // datastore (Service Authorization Reference, "API operations"); its id is unknown here.
              // https://docs.aws.amazon.com/service-authorization/latest/reference/list_medical-imaging.html
              new PolicyStatement({
                effect: Effect.ALLOW,
                actions: ['medical-imaging:TagResource'],
                resources: [arns.anyDatastore()],
              }),
            ]
          : []),
      ],
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'medical-imaging:CreateDatastore has no resource type in the Service Authorization Reference, so "*" ' +
        'is the only valid resource; the statement allows that single action.',
    });
    acknowledgeWildcardResource(
      policy,
      [arns.anyDatastore()],
      arns.anyDatastore(),
      tags
        ? 'GetDatastore polls, and TagResource (which CreateDatastore with tags authorizes) tags, a datastore ' +
            'whose id HealthImaging assigns during this same deployment; limited to those two actions in this ' +
            'account and region.'
        : 'GetDatastore polls a datastore whose id HealthImaging assigns during this same deployment; the ' +
            'statement is limited to read-only GetDatastore in this account and region.',
    );
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Creates the OIDC-enabled HealthImaging datastore (custom resource)',
      managedPolicies: [policy],
    });

    const handler = (handlerId: string, exportName: string) => {
      const fn = new LambdaFunction(this, handlerId, {
        code: Code.fromAsset(props.codeDirectory),
        handler: `create-datastore.${exportName}`,
        runtime: props.runtime,
        architecture: Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.minutes(1),
        role,
        logGroup,
        description: `HealthImaging datastore custom resource: ${exportName}`,
      });
      acknowledgeProvisioningFunction(fn);
      return fn;
    };

    const onEventHandler = handler('OnEvent', 'onEvent');
    const isCompleteHandler = handler('IsComplete', 'isComplete');
    const provider = new Provider(this, 'Provider', {
      onEventHandler,
      isCompleteHandler,
      // Datastores usually turn ACTIVE within minutes.
      queryInterval: Duration.seconds(20),
      totalTimeout: Duration.minutes(30),
      logGroup,
    });
    acknowledgeProviderFramework(provider, [onEventHandler, isCompleteHandler]);

    const resource = (this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::HealthImagingDatastore',
      properties: {
        DatastoreName: props.datastoreName,
        LambdaAuthorizerArn: props.lambdaAuthorizerArn,
        // Only when given: a stack that sets none keeps its properties, so no Update is sent.
        ...(props.kmsKeyArn && { KmsKeyArn: props.kmsKeyArn }),
        ...(props.losslessStorageFormat && { LosslessStorageFormat: props.losslessStorageFormat }),
        ...(tags && { Tags: tags }),
      },
      // Medical data: deleting the stack never deletes the datastore (and the handler ignores Delete).
      removalPolicy: RemovalPolicy.RETAIN,
    }));
    // Only the custom resource waits: the role, functions and Provider can be created alongside.
    if (props.dependsOn && props.dependsOn.length > 0) resource.node.addDependency(...props.dependsOn);
    this.datastoreId = resource.getAttString('DatastoreId');
    this.datastoreArn = resource.getAttString('DatastoreArn');
  }
}

/**
 * What the role calling CreateDatastore needs on a customer-managed key. HealthImaging's data
 * encryption page ("Required IAM permissions for using a customer managed KMS key") lists
 * kms:CreateGrant, kms:GenerateDataKey, kms:RetireGrant, kms:Decrypt and kms:ReEncrypt* on the key
 * ARN for the IAM user or role creating the datastore, and kms:DescribeKey as "required for all
 * operations" (HealthImaging calls it with the caller's identity). kms:ReEncrypt* is written out as
 * the two actions it matches. The key's own policy must also let this role use it (directly, or by
 * leaving the decision to IAM policies; same page); this stack cannot change a key it does not own.
 * https://docs.aws.amazon.com/healthimaging/latest/devguide/data-encryption.html
 */
function customerManagedKeyStatement(kmsKeyArn: string): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: [
      'kms:CreateGrant',
      'kms:DescribeKey',
      'kms:GenerateDataKey',
      'kms:Decrypt',
      'kms:ReEncryptFrom',
      'kms:ReEncryptTo',
      'kms:RetireGrant',
    ],
    resources: [kmsKeyArn],
  });
}

/** The two provisioning functions run a handful of times per stack lifetime, from CloudFormation only. */
function acknowledgeProvisioningFunction(fn: LambdaFunction): void {
  // Lambda keeps 100 executions unreserved, so in an account with a low concurrency limit any
  // reservation fails the create: https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html
  const concurrency =
    'Only the custom-resource framework calls it, once per deploy; a reservation would fail the first deploy ' +
    'in an account whose concurrency limit leaves no room for one.';
  Validations.of(fn).acknowledge({ id: 'HIPAA.Security-LambdaConcurrency', reason: concurrency });
  Validations.of(fn).acknowledge({ id: 'NIST.800.53.R5-LambdaConcurrency', reason: concurrency });
  Validations.of(fn).acknowledge({
    id: 'HIPAA.Security-LambdaInsideVPC',
    reason: 'Calls only the HealthImaging API during deployment; no VPC resources to reach, no data path.',
  });
  Validations.of(fn).acknowledge({
    id: 'NIST.800.53.R5-LambdaInsideVPC',
    reason: 'Calls only the HealthImaging API during deployment; no VPC resources to reach, no data path.',
  });
  Validations.of(fn).acknowledge({
    id: 'HIPAA.Security-LambdaDLQ',
    reason:
      'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation.',
  });
  Validations.of(fn).acknowledge({
    id: 'NIST.800.53.R5-LambdaDLQ',
    reason:
      'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation.',
  });
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation.',
  });
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaTracing',
    reason: 'A deployment-time helper; its log group records every request and SDK error.',
  });
}

/**
 * The Provider's framework (three CDK-owned functions and a Step Functions waiter) runs only while
 * CloudFormation creates or updates the datastore. Its code, roles and runtime are CDK's; these findings
 * are acknowledged on the Provider so they cover exactly that framework and nothing this stack writes.
 */
function acknowledgeProviderFramework(provider: Provider, handlers: readonly LambdaFunction[]): void {
  const ack = (id: string, reason: string) => Validations.of(provider).acknowledge({ id, reason });
  const deployOnly =
    'CDK custom-resource framework code that runs only during deployments, never on the request path.';
  const invoked = [
    ...handlers,
    ...['framework-isComplete', 'framework-onTimeout'].map(
      (childId) => provider.node.findChild(childId) as LambdaFunction,
    ),
  ];
  for (const fn of invoked) {
    // CDK's grantInvoke covers the function and its versions (`<arn>:*`); one function per statement.
    const finding = flattenCfnReference(Stack.of(provider).resolve(`${fn.functionArn}:*`));
    ack(
      `AwsSolutions-IAM5[Resource::${finding}]`,
      `The framework invokes ${fn.node.id} and its versions (CDK grantInvoke adds "<arn>:*"); no other function.`,
    );
  }
  ack(
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    `The framework functions' CDK-created roles use the basic execution policy for their logs. ${deployOnly}`,
  );
  for (const pack of ['HIPAA.Security', 'NIST.800.53.R5']) {
    ack(
      `${pack}-IAMNoInlinePolicy`,
      `CDK's framework grants (invoke, state machine) are inline policies. ${deployOnly}`,
    );
    ack(
      `${pack}-LambdaInsideVPC`,
      `Calls only Lambda, Step Functions and CloudFormation's response URL. ${deployOnly}`,
    );
    ack(
      `${pack}-LambdaDLQ`,
      `Invoked synchronously by CloudFormation and the waiter, which report failures. ${deployOnly}`,
    );
    ack(
      `${pack}-LambdaConcurrency`,
      `CDK exposes no concurrency setting for the framework; one request per deploy. ${deployOnly}`,
    );
  }
  ack(
    'Serverless-LambdaDLQ',
    `Invoked synchronously by CloudFormation and the waiter, which report failures. ${deployOnly}`,
  );
  ack(
    'Serverless-LambdaDefaultMemorySize',
    `CDK exposes no memory setting for the framework functions. ${deployOnly}`,
  );
  ack(
    'Serverless-LambdaTracing',
    `CDK exposes no tracing setting for the framework functions. ${deployOnly}`,
  );
  ack(
    'AwsSolutions-SF1',
    'The waiter only re-invokes isComplete, and every poll is logged by isComplete in the provisioning log group; ' +
      'state-machine logging would add logs:* delivery permissions on "*".',
  );
  ack(
    'AwsSolutions-SF2',
    `The waiter is a retry loop around isComplete; X-Ray adds nothing to its log. ${deployOnly}`,
  );
  ack(
    'Serverless-StepFunctionStateMachineXray',
    `The waiter is a retry loop around isComplete; X-Ray adds nothing to its log. ${deployOnly}`,
  );
}

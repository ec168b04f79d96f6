/**
 * Watches the authorizer's control plane for changes made outside a deploy (the function's code,
 * configuration, aliases or permissions; its SSM config parameter): whoever can make one decides who
 * gets in, so every change should be a reviewed `cdk deploy`. EventBridge logs the CloudTrail records
 * (who changed what) and an alarm fires on any match.
 */

import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type IRuleTarget, Rule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, ResourcePolicy, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface OutOfBandChangeWatchProps {
  readonly function: IFunction;
  /** The SSM parameter holding the config, when the function reads it from there. */
  readonly parameterName?: string;
  readonly logGroupName: string;
  readonly logRetention: RetentionDays;
  readonly logEncryptionKey: IKey;
  readonly alarmTopic?: ITopic;
}

/** Lambda API calls that change what the function does or who may invoke it (CloudTrail event names). */
const LAMBDA_CHANGES = [
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'PublishVersion',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
  'AddPermission',
  'RemovePermission',
  'DeleteFunction',
  'PutFunctionConcurrency',
  'DeleteFunctionConcurrency',
  'PutProvisionedConcurrencyConfig',
  'DeleteProvisionedConcurrencyConfig',
  'CreateFunctionUrlConfig',
  'UpdateFunctionUrlConfig',
  'PutFunctionEventInvokeConfig',
  'UpdateFunctionEventInvokeConfig',
  'PutRuntimeManagementConfig',
  'PutFunctionCodeSigningConfig',
];
/** SSM API calls that change a parameter's value or the version a label points to. */
const PARAMETER_CHANGES = [
  'PutParameter',
  'DeleteParameter',
  'DeleteParameters',
  'LabelParameterVersion',
  'UnlabelParameterVersion',
];

/**
 * Made by anyone but CloudFormation: calls CloudFormation makes carry
 * `userIdentity.invokedBy: cloudformation.amazonaws.com` (the AWS service that made the request,
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html);
 * a person's or a script's carry none. A change made through some other stack is therefore not
 * flagged: who may deploy stacks in the account is part of who can change who gets in.
 */
const NOT_BY_CLOUDFORMATION = [{ exists: false }, { 'anything-but': ['cloudformation.amazonaws.com'] }];

export class OutOfBandChangeWatch extends Construct {
  readonly logGroup: LogGroup;
  readonly rules: Rule[] = [];
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: OutOfBandChangeWatchProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.logGroup = new LogGroup(this, 'Changes', {
      logGroupName: props.logGroupName,
      retention: props.logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    // EventBridge writes to CloudWatch Logs under the log group's resource policy:
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
    new ResourcePolicy(this, 'EventsMayWrite', {
      policyStatements: [
        new PolicyStatement({
          principals: [
            new ServicePrincipal('events.amazonaws.com'),
            new ServicePrincipal('delivery.logs.amazonaws.com'),
          ],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`${this.logGroup.logGroupArn}`],
        }),
      ],
    });
    const toLogGroup: IRuleTarget = {
      bind: () => ({
        arn: stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: this.logGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      }),
    };

    // EventBridge receives "AWS API Call via CloudTrail" events only in an account with a CloudTrail
    // trail that logs management events (an organization trail counts):
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
    this.rules.push(
      new Rule(this, 'FunctionChanged', {
        description: 'The authorizer function, its aliases or its permissions changed outside CloudFormation',
        eventPattern: {
          source: ['aws.lambda'],
          detailType: ['AWS API Call via CloudTrail'],
          detail: {
            eventSource: ['lambda.amazonaws.com'],
            eventName: LAMBDA_CHANGES.map((name) => ({ prefix: name })),
            // CloudTrail records the name, ARN or partial ARN the caller gave.
            requestParameters: { functionName: [{ wildcard: `*${props.function.functionName}*` }] },
            userIdentity: { invokedBy: NOT_BY_CLOUDFORMATION },
          },
        },
        targets: [toLogGroup],
      }),
    );
    if (props.parameterName !== undefined) {
      if (Token.isUnresolved(props.parameterName)) {
        throw new Error(
          'OutOfBandChangeWatch needs the parameter name as a literal, not a deploy-time token',
        );
      }
      const parameterSuffix = props.parameterName.replace(/^\//, '');
      this.rules.push(
        new Rule(this, 'ConfigParameterChanged', {
          description: 'The authorizer configuration parameter was written outside CloudFormation',
          eventPattern: {
            source: ['aws.ssm'],
            detailType: ['AWS API Call via CloudTrail'],
            detail: {
              eventSource: ['ssm.amazonaws.com'],
              eventName: PARAMETER_CHANGES,
              // PutParameter names one parameter, DeleteParameters a list; either by name or ARN.
              $or: [
                { requestParameters: { name: [{ suffix: parameterSuffix }] } },
                { requestParameters: { names: [{ suffix: parameterSuffix }] } },
              ],
              userIdentity: { invokedBy: NOT_BY_CLOUDFORMATION },
            },
          },
          targets: [toLogGroup],
        }),
      );
    }

    // TriggeredRules counts a rule's matches (AWS/Events, dimension RuleName):
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html
    const matches = this.rules.map(
      (rule) =>
        new Metric({
          namespace: 'AWS/Events',
          metricName: 'TriggeredRules',
          dimensionsMap: { RuleName: rule.ruleName },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
    );
    const usingMetrics = Object.fromEntries(matches.map((metric, index) => [`m${index}`, metric]));
    this.alarm = new Alarm(this, 'ChangedOutsideDeploy', {
      metric: new MathExpression({
        expression: Object.keys(usingMetrics)
          .map((name) => `FILL(${name}, 0)`)
          .join(' + '),
        usingMetrics,
        period: Duration.minutes(5),
        label: 'changes outside a deploy',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'The authorizer or its configuration was changed outside a deploy: see the changes log group for who ' +
        'and what, and redeploy the reviewed version',
    });
    if (props.alarmTopic) {
      this.alarm.addAlarmAction(new SnsAction(props.alarmTopic));
    } else {
      const reason =
        'No alarm topic was given (alarmTopicArn): the alarm still changes state in CloudWatch, and the ' +
        'deployment cannot guess who to notify. Passing a topic adds it to this alarm.';
      Validations.of(this.alarm).acknowledge({ id: 'HIPAA.Security-CloudWatchAlarmAction', reason });
      Validations.of(this.alarm).acknowledge({ id: 'NIST.800.53.R5-CloudWatchAlarmAction', reason });
    }
    for (const rule of this.rules) {
      Validations.of(rule).acknowledge({
        id: 'Serverless-EventBusDLQ',
        reason:
          "The alarm counts the rule's matches (TriggeredRules), not deliveries, so a failed write to the log " +
          'group loses no alert; the change itself stays in CloudTrail.',
      });
    }
  }
}

/**
 * The authorizer's alarms, each answering "are users being turned away, and why". Decision alarms
 * read the EMF metrics the handler writes with every audit line, always for this stack's function,
 * so a staging stack's deny flood cannot page production; platform alarms read Lambda's own metrics.
 * Missing data is normal (no traffic) and never alarms.
 */

import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Alias, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Reason } from '../src/core/decision/reason-codes.ts';
import { FUNCTION_DIMENSION, METRIC_NAMESPACE } from '../src/core/observability/audit-line.ts';

export interface AuthorizerAlarmsProps {
  readonly function: IFunction;
  readonly alias: Alias;
  /** Notified when an alarm fires. Default: alarms without actions (visible in the console only). */
  readonly alarmTopic?: ITopic;
  /** Denied decisions per 5 minutes that count as a spike. Default 100. */
  readonly denyThreshold?: number;
  /** p99 duration that is "approaching" HealthImaging's 1 s limit. Default 800 ms (the handler's budget). */
  readonly durationThreshold?: Duration;
  /** Adds a spill-over alarm when the alias has provisioned concurrency. */
  readonly provisionedConcurrency?: number;
}

const PERIOD = Duration.minutes(5);

export class AuthorizerAlarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AuthorizerAlarmsProps) {
    super(scope, id);

    // Metric `decisions`, dimensions `function` and `decision` or `reason`. The handler's `function`
    // field is AWS_LAMBDA_FUNCTION_NAME, this function's name: another stack in the same account and
    // region writes under its own.
    const decisions = (dimensions: Record<string, string>) =>
      new Metric({
        namespace: METRIC_NAMESPACE,
        metricName: 'decisions',
        dimensionsMap: { [FUNCTION_DIMENSION]: props.function.functionName, ...dimensions },
        statistic: 'Sum',
        period: PERIOD,
      });
    const reason = (code: Reason) => decisions({ reason: code });

    this.add('DenySpike', decisions({ decision: 'deny' }), props.denyThreshold ?? 100, {
      description:
        'Denied decisions spiked: check the audit log reasons (expired tokens, a changed IdP, an attack)',
    });
    this.add('IdpUnavailable', reason('idp_unavailable'), 1, {
      description: 'An identity provider was unreachable with no cached keys: its users are being denied',
    });
    this.add('DeadlineExceeded', reason('deadline_exceeded'), 1, {
      description: 'Decisions ran out of the 1-second HealthImaging budget (slow IdP, cold starts, SSM)',
    });
    this.add('InternalError', reason('internal_error'), 1, {
      description:
        'Unexpected failures, including a rule naming a role outside the deployment allowlist (a tampered config?)',
    });
    this.add(
      'ConfigUnusable',
      new MathExpression({
        expression: 'FILL(invalid, 0) + FILL(unavailable, 0)',
        usingMetrics: { invalid: reason('config_invalid'), unavailable: reason('config_unavailable') },
        period: PERIOD,
        label: 'config_invalid + config_unavailable',
      }),
      1,
      { description: 'The configuration parameter is unreadable or invalid: every request is being denied' },
    );
    this.add('Errors', props.function.metricErrors({ period: PERIOD, statistic: 'Sum' }), 1, {
      description: 'Lambda errors: HealthImaging answers these requests with 424',
    });
    this.add('Throttles', props.function.metricThrottles({ period: PERIOD, statistic: 'Sum' }), 1, {
      description: 'Throttled at the reserved concurrency: HealthImaging requests are failing; raise the cap',
    });
    const durationThreshold = props.durationThreshold ?? Duration.millis(800);
    this.add(
      'DurationP99',
      props.function.metricDuration({ period: PERIOD, statistic: 'p99' }),
      durationThreshold.toMilliseconds(),
      {
        description: `p99 duration reached ${durationThreshold.toMilliseconds()} ms: close to HealthImaging's 1 s limit (408)`,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      },
    );
    if ((props.provisionedConcurrency ?? 0) > 0) {
      this.add(
        'ProvisionedConcurrencySpillover',
        props.alias.metric('ProvisionedConcurrencySpilloverInvocations', {
          period: PERIOD,
          statistic: 'Sum',
        }),
        1,
        { description: 'Requests exceeded the provisioned concurrency and met cold starts; raise it' },
      );
    }

    if (props.alarmTopic) {
      const action = new SnsAction(props.alarmTopic);
      for (const alarm of this.alarms) alarm.addAlarmAction(action);
    } else {
      const reason =
        'No alarm topic was given (alarmTopicArn): the alarms still change state in CloudWatch, and the ' +
        'deployment cannot guess who to notify. Passing a topic adds it to every alarm.';
      Validations.of(this).acknowledge({ id: 'HIPAA.Security-CloudWatchAlarmAction', reason });
      Validations.of(this).acknowledge({ id: 'NIST.800.53.R5-CloudWatchAlarmAction', reason });
    }
  }

  private add(
    id: string,
    metric: IMetric,
    threshold: number,
    options: { description: string; evaluationPeriods?: number; datapointsToAlarm?: number },
  ): void {
    this.alarms.push(
      new Alarm(this, id, {
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        datapointsToAlarm: options.datapointsToAlarm ?? 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: options.description,
      }),
    );
  }
}

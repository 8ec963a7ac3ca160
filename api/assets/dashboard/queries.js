// The GraphQL documents the dashboard sends.

export const VIEWER = `query Viewer {
  me { subject role programKeys }
}`;

export const PROGRAMS = `query Programs($after: String) {
  programs(first: 100, after: $after) {
    nodes { key name }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const BENCHMARKS = `query Benchmarks {
  benchmarks { name builtIn }
}`;

export const TEAMS = `query Teams($programKeys: [String!]) {
  teams(programKeys: $programKeys)
}`;

const KEYS = `
  deploymentFrequency { deployments deploymentDays perDay band }
  leadTime { band hours { count median p90 } }
  changeFailureRate { deployments failed rate band }
  timeToRestore { band hours { count median p90 } }
  reworkRate { deployments rework rate }`;

export const METRICS = `query Metrics($current: MetricsFilter!, $previous: MetricsFilter!) {
  current: metrics(filter: $current) {
    from to ${KEYS}
    benchmark { name }
    warnings { metric observations }
    delivery {
      releasesDelivered onTimeRate slippageDays { count median p90 } rollbackRate
      gateFirstPassRate reviewCompletionRate actionsOpen actionsOverdue actionsClosed
    }
    compliance {
      productionDeployments ingestedDeployments unplannedDeployments unplannedRate
      freezeOverrides emergencyDeployments
    }
    trend { start end deployments failedDeployments changeFailureRate leadTimeMedianHours }
    byProgram {
      programKey
      deploymentFrequency { deployments perDay band }
      leadTime { band hours { median } }
      changeFailureRate { rate band }
      timeToRestore { band hours { median } }
    }
  }
  previous: metrics(filter: $previous) { ${KEYS} }
}`;

const FORECAST = 'forecast { basis sampleSize stage enteredAt onTimeProbability p50 p85 changeFailureRisk risk }';

export const CALENDAR = `query Calendar($from: DateTime!, $to: DateTime!, $programKeys: [String!], $flight: ReleaseFilter!, $underWay: ReleaseFilter!) {
  releaseCalendar(from: $from, to: $to, programKeys: $programKeys) {
    kind title startsAt endsAt
    release { id version status teams program { key } forecast { risk onTimeProbability } }
    deployment { status stage environment { name } release { version teams program { key } } }
    freezeWindow { name reason program { key } }
  }
  releases(filter: $flight, orderBy: { field: PLANNED_END, direction: ASC }, first: 50) {
    totalCount
    nodes { version name status type plannedEnd program { key name } readiness { ready blockers } ${FORECAST} }
  }
  underWay: releases(filter: $underWay, orderBy: { field: PLANNED_END, direction: ASC }, first: 100) {
    totalCount
    nodes { version name plannedEnd program { key } ${FORECAST} }
  }
  scheduleConflicts(from: $from, to: $to, programKeys: $programKeys) {
    kind message release { id version program { key } }
  }
}`;

export const DELIVERIES = `query Deliveries($filter: DeliveryFilter!, $after: String) {
  deliveries(filter: $filter, first: 20, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { receivedAt status eventType reason errorCode source { key kind program { key } } }
  }
}`;

export const IMPACT = `query Impact($filter: ImpactFilter!) {
  improvementImpact(filter: $filter) {
    action { id title release { program { key } } }
    impact {
      metric effectiveAt windowDays partial change low high verdict baselineChange netChange
      before { value observations } after { value observations }
    }
  }
}`;

// The tiles: the four keys and rework rate (with band and change against the previous
// window), delivery figures and compliance; a figure resting on fewer observations than
// the minimum sample carries a "few data" mark.

import { figure, h, spoken } from './dom.js';
import { BAND_NAMES, ROUNDED, at, change, wholePercent } from './format.js';

/** A figure of the metrics answer `m`, rounded by its unit. */
const shown = (m, field, unit) => figure(field, unit, ROUNDED[unit](at(m, field)));

const band = (value) =>
  value
    ? h('p', { class: `band band-${value.toLowerCase().replace('_', '-')}` }, spoken('Band: '), BAND_NAMES[value])
    : h('p', { class: 'band band-none' }, 'No DORA band');

function trend(current, previous, lowerIsBetter, days) {
  const relative = change(current, previous);
  const against = `vs previous ${days} days`;
  if (relative === null) return h('p', { class: 'change' }, `no figure for the previous ${days} days`);
  const size = wholePercent(Math.abs(relative));
  if (size === 0) return h('p', { class: 'change same' }, `no change ${against}`);
  const up = relative > 0;
  const better = up !== lowerIsBetter;
  return h(
    'p',
    { class: `change ${better ? 'better' : 'worse'}`, dataset: { change: String(Math.sign(relative) * size) } },
    h('span', { 'aria-hidden': 'true' }, up ? '▲ ' : '▼ '),
    spoken(up ? 'up ' : 'down '),
    `${size}% ${against}`,
    spoken(better ? ', better' : ', worse'),
  );
}

const KEYS = [
  {
    id: 'deploymentFrequency',
    metric: 'DEPLOYMENT_FREQUENCY',
    title: 'Deployment frequency',
    field: 'deploymentFrequency.perDay',
    unit: 'perDay',
    suffix: ' per day',
    band: 'deploymentFrequency.band',
    lowerIsBetter: false,
    details: (m) => [
      shown(m, 'deploymentFrequency.deployments', 'integer'), ' deployments on ',
      shown(m, 'deploymentFrequency.deploymentDays', 'integer'), ' days',
    ],
  },
  {
    id: 'leadTime',
    metric: 'LEAD_TIME',
    title: 'Lead time for changes',
    field: 'leadTime.hours.median',
    unit: 'hours',
    suffix: ' h median',
    band: 'leadTime.band',
    lowerIsBetter: true,
    details: (m) => [
      'p90 ', shown(m, 'leadTime.hours.p90', 'hours'), ' h, over ',
      shown(m, 'leadTime.hours.count', 'integer'), ' changes',
    ],
  },
  {
    id: 'changeFailureRate',
    metric: 'CHANGE_FAILURE_RATE',
    title: 'Change failure rate',
    field: 'changeFailureRate.rate',
    unit: 'percent',
    suffix: '%',
    band: 'changeFailureRate.band',
    lowerIsBetter: true,
    details: (m) => [
      shown(m, 'changeFailureRate.failed', 'integer'), ' of ',
      shown(m, 'changeFailureRate.deployments', 'integer'), ' deployments failed',
    ],
  },
  {
    id: 'timeToRestore',
    metric: 'TIME_TO_RESTORE',
    title: 'Time to restore',
    field: 'timeToRestore.hours.median',
    unit: 'hours',
    suffix: ' h median',
    band: 'timeToRestore.band',
    lowerIsBetter: true,
    details: (m) => [
      'p90 ', shown(m, 'timeToRestore.hours.p90', 'hours'), ' h, over ',
      shown(m, 'timeToRestore.hours.count', 'integer'), ' incidents',
    ],
  },
  {
    id: 'reworkRate',
    metric: 'REWORK_RATE',
    title: 'Rework rate',
    field: 'reworkRate.rate',
    unit: 'percent',
    suffix: '%',
    band: null,
    lowerIsBetter: true,
    details: (m) => [
      shown(m, 'reworkRate.rework', 'integer'), ' of ',
      shown(m, 'reworkRate.deployments', 'integer'), ' deployments were emergency releases',
    ],
  },
];

const tile = (id, title, ...content) =>
  h('article', { class: 'tile', dataset: { tile: id }, 'aria-labelledby': `tile-${id}` }, h('h3', { id: `tile-${id}` }, title), content);

/** The "few data" mark of `metric` when `m.warnings` names it. */
function few(m, metric) {
  const warning = m.warnings?.find((w) => w.metric === metric);
  if (!warning) return null;
  const n = warning.observations;
  return h('p', { class: 'few', dataset: { metric, observations: String(n) } },
    `Few data: ${n} observation${n === 1 ? '' : 's'}`);
}

const value = (m, field, unit, suffix) => h('p', { class: 'value' }, shown(m, field, unit), h('span', { class: 'unit' }, suffix));

/** The four keys and rework rate of `current`, each against `previous`. */
export function keyTiles(current, previous, days) {
  return KEYS.map((key) =>
    tile(
      key.id,
      key.title,
      value(current, key.field, key.unit, key.suffix),
      band(key.band && at(current, key.band)),
      trend(at(current, key.field), at(previous, key.field), key.lowerIsBetter, days),
      h('p', { class: 'detail' }, key.details(current)),
      few(current, key.metric),
    ),
  );
}

/** Delivery figures: on time, slippage, gates, reviews, rollbacks, improvement actions. */
export function deliveryTiles(m) {
  const d = 'delivery.';
  return [
    tile('onTimeRate', 'On time', value(m, `${d}onTimeRate`, 'percent', '%'),
      h('p', { class: 'detail' }, 'of ', shown(m, `${d}releasesDelivered`, 'integer'), ' releases delivered'),
      few(m, 'ON_TIME_RATE')),
    tile('slippage', 'Slippage', value(m, `${d}slippageDays.median`, 'days', ' days median'),
      h('p', { class: 'detail' }, 'p90 ', shown(m, `${d}slippageDays.p90`, 'days'), ' days; negative is early')),
    tile('gateFirstPass', 'Gates passed first time', value(m, `${d}gateFirstPassRate`, 'percent', '%'),
      few(m, 'GATE_FIRST_PASS_RATE')),
    tile('reviewCompletion', 'Releases reviewed', value(m, `${d}reviewCompletionRate`, 'percent', '%'),
      h('p', { class: 'detail' }, 'post-implementation reviews of delivered releases')),
    tile('rollbacks', 'Rolled back', value(m, `${d}rollbackRate`, 'percent', '%'),
      h('p', { class: 'detail' }, 'of production deployments')),
    tile('actions', 'Improvement actions',
      h('p', { class: 'value' }, shown(m, `${d}actionsOpen`, 'integer'), h('span', { class: 'unit' }, ' open')),
      h('p', { class: 'detail' }, shown(m, `${d}actionsOverdue`, 'integer'), ' overdue, ',
        shown(m, `${d}actionsClosed`, 'integer'), ' closed in the window')),
  ];
}

/** Compliance: production change that went around the release process. */
export function complianceTiles(m) {
  const c = 'compliance.';
  return [
    tile('unplanned', 'Unplanned deployments', value(m, `${c}unplannedDeployments`, 'integer', ''),
      h('p', { class: 'detail' }, shown(m, `${c}unplannedRate`, 'percent'), '% of production change bypassed the process'),
      few(m, 'UNPLANNED_RATE')),
    tile('freezeOverrides', 'Freeze overrides', value(m, `${c}freezeOverrides`, 'integer', ''),
      h('p', { class: 'detail' }, 'releases moved on inside a freeze window')),
    tile('emergency', 'Emergency deployments', value(m, `${c}emergencyDeployments`, 'integer', ''),
      h('p', { class: 'detail' }, 'of ', shown(m, `${c}productionDeployments`, 'integer'), ' production deployments')),
    tile('ingested', 'Ingested', value(m, `${c}ingestedDeployments`, 'integer', ''),
      h('p', { class: 'detail' }, 'production deployments reported by CI/CD tools')),
  ];
}

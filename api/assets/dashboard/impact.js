// Part 7, "Did it work?": each improvement action that took effect in the window with a
// target, its metric before and after, the 95 % interval of the change drawn across zero,
// the verdict in words and the change net of the rest of the organisation
// (metrics.md, Improvement impact).

import { empty, h, spoken } from './dom.js';
import { date, hours, perDay, wholePercent } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

/** How each metric reads: its name, its value and a change of it. */
const METRICS = {
  DEPLOYMENT_FREQUENCY: { name: 'Deployment frequency', value: (v) => `${perDay(v)} per day`, delta: (v) => `${perDay(v)} per day` },
  LEAD_TIME: { name: 'Lead time (median)', value: (v) => `${hours(v)} h`, delta: (v) => `${hours(v)} h` },
  TIME_TO_RESTORE: { name: 'Time to restore (median)', value: (v) => `${hours(v)} h`, delta: (v) => `${hours(v)} h` },
  CHANGE_FAILURE_RATE: { name: 'Change failure rate' },
  REWORK_RATE: { name: 'Rework rate' },
  ON_TIME_RATE: { name: 'On-time rate' },
  GATE_FIRST_PASS_RATE: { name: 'Gates passed first time' },
  UNPLANNED_RATE: { name: 'Unplanned rate' },
};
const RATE = { value: (v) => `${wholePercent(v)}%`, delta: (v) => `${wholePercent(v)} pp` };
const reading = (metric) => ({ ...RATE, ...METRICS[metric] });

const signed = (text, value) => (value > 0 ? `+${text}` : text);
const shown = (value, format) => (value == null ? '–' : format(value));

function verdict(impact) {
  const { before, after } = impact;
  switch (impact.verdict) {
    case 'IMPROVED':
      return 'Improved: the whole 95 % interval lies on the better side of zero.';
    case 'WORSENED':
      return 'Worsened: the whole 95 % interval lies on the worse side of zero.';
    case 'NO_DETECTABLE_CHANGE':
      return 'No detectable change: the 95 % interval includes zero.';
    default:
      return `Not enough data to tell: ${before.observations} observations before and ${after.observations} after.`;
  }
}

/** The interval `[low, high]` and the change as a bar across zero; null without one. */
function intervalBar(impact, format) {
  const { low, high, change } = impact;
  if (low == null || high == null) return null;
  const reach = Math.max(Math.abs(low), Math.abs(high), Math.abs(change ?? 0)) || 1;
  const x = (value) => 50 + (45 * value) / reach;
  const svg = document.createElementNS(SVG, 'svg');
  const shape = (tag, attributes) => {
    const element = document.createElementNS(SVG, tag);
    Object.entries(attributes).forEach(([name, value]) => element.setAttribute(name, String(value)));
    svg.append(element);
  };
  svg.setAttribute('viewBox', '0 0 100 12');
  svg.setAttribute('class', 'interval');
  svg.setAttribute('aria-hidden', 'true');
  shape('rect', { x: x(Math.min(low, high)), y: 3, width: Math.max(0.5, x(high) - x(low)), height: 6, class: 'span' });
  shape('line', { x1: 50, x2: 50, y1: 0, y2: 12, class: 'zero' });
  if (change != null) shape('line', { x1: x(change), x2: x(change), y1: 1, y2: 11, class: 'point' });
  return h(
    'div',
    { class: 'interval-row' },
    svg,
    h('p', { class: 'detail' }, `95 % interval ${signed(format(low), low)} to ${signed(format(high), high)}`),
  );
}

function row({ action, impact }) {
  const metric = reading(impact.metric);
  const { before, after } = impact;
  const net =
    impact.baselineChange == null
      ? 'No other program to compare with.'
      : `Rest of the organisation ${signed(metric.delta(impact.baselineChange), impact.baselineChange)}; net ${shown(impact.netChange, (v) => signed(metric.delta(v), v))}.`;
  return h(
    'article',
    { class: `impact verdict-${impact.verdict.toLowerCase().replaceAll('_', '-')}`, dataset: { action: action.id, verdict: impact.verdict } },
    h('h3', {}, action.title),
    h('p', { class: 'detail' }, `${action.release.program.key} · ${metric.name} · in effect from ${date(Date.parse(impact.effectiveAt))}`),
    h(
      'p',
      { class: 'value' },
      spoken('Before: '),
      shown(before.value, metric.value),
      h('span', { 'aria-hidden': 'true' }, ' → '),
      spoken(', after: '),
      shown(after.value, metric.value),
      impact.change == null ? null : h('span', { class: 'unit' }, ` (${signed(metric.delta(impact.change), impact.change)})`),
    ),
    h('p', { class: 'detail' }, `${impact.windowDays} days before and after; ${before.observations} and ${after.observations} observations`),
    impact.partial ? h('p', { class: 'partial' }, 'The after window is still open: the figures may move.') : null,
    intervalBar(impact, metric.delta),
    h('p', { class: 'verdict' }, verdict(impact)),
    h('p', { class: 'detail' }, net),
  );
}

/** Renders `rows` of `improvementImpact` into `container`. */
export function drawImpact(container, rows) {
  container.replaceChildren(
    ...(rows.length
      ? rows.map(row)
      : [empty('No improvement action with a target took effect in this window.')]),
  );
}

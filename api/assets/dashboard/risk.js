// Part 8, "At risk": the releases under way with a forecast, HIGH and MEDIUM risk first, each
// with its on-time probability, P50 and P85 delivery dates against plannedEnd, change
// failure risk and what the forecast rests on (metrics.md, Forecast).

import { empty, h } from './dom.js';
import { date, percent } from './format.js';

const ORDER = { HIGH: 0, MEDIUM: 1, LOW: 2 };
// Releases shown before a "show all" button: busy programs have many under way.
const SHOWN = 10;
const BASES = {
  PROGRAM_AND_TYPE: 'same program and type',
  PROGRAM: 'same program',
  TYPE: 'same type, every program you see',
};

/** A release's forecast risk as a badge, for wherever a release is shown; null without one. */
export function riskBadge(forecast) {
  if (!forecast) return null;
  return h(
    'span',
    { class: `status risk-${forecast.risk.toLowerCase()}`, title: `${percent(forecast.onTimeProbability)}% chance of landing on time` },
    `${forecast.risk} risk`,
  );
}

export function drawAtRisk(container, releases) {
  const forecast = releases.nodes
    .filter((release) => release.forecast)
    .sort((a, b) => ORDER[a.forecast.risk] - ORDER[b.forecast.risk]
      || Date.parse(a.plannedEnd) - Date.parse(b.plannedEnd));
  if (forecast.length === 0) {
    container.replaceChildren(empty('No release under way has enough comparable releases for a forecast.'));
    return;
  }
  const more = releases.totalCount - releases.nodes.length;
  const items = forecast.map((release, index) => {
    const f = release.forecast;
    const cfr = f.changeFailureRisk == null ? 'no failure history' : `${percent(f.changeFailureRisk)}% change failure risk`;
    return h(
      'li',
      { dataset: { program: release.program.key, version: release.version, risk: f.risk }, hidden: index >= SHOWN },
      h('p', { class: 'release' },
        h('strong', {}, `${release.program.key} ${release.version}`), ` ${release.name}`),
      h('p', { class: 'meta' },
        riskBadge(f),
        h('span', { class: 'probability' }, `${percent(f.onTimeProbability)}% on time`),
        ` · ${f.stage.replaceAll('_', ' ').toLowerCase()} since ${date(Date.parse(f.enteredAt))}`),
      h('p', { class: 'dates' },
        `P50 ${date(Date.parse(f.p50))}, P85 ${date(Date.parse(f.p85))} against planned ${date(Date.parse(release.plannedEnd))}`),
      h('p', { class: 'detail' },
        `${cfr} · from ${f.sampleSize} comparable releases (${BASES[f.basis]})`),
    );
  });
  const all = items.length > SHOWN
    ? h('button', {
      type: 'button',
      class: 'link',
      onclick: (event) => {
        items.forEach((item) => { item.hidden = false; });
        event.target.remove();
      },
    }, `Show all ${items.length}`)
    : null;
  container.replaceChildren(
    h('ul', { class: 'flight risks' }, items),
    ...(all ? [all] : []),
    ...(more > 0 ? [h('p', { class: 'detail' }, `The ${releases.nodes.length} releases under way due soonest; ${more} more are due later.`)] : []),
  );
}

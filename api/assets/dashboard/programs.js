// The by-program table: the four keys and their bands, one row per program, sortable by
// any column; choosing a program filters the whole page to it.

import { figure, h, spoken } from './dom.js';
import { BAND_NAMES, ROUNDED, at } from './format.js';

const COLUMNS = [
  { title: 'Program', sort: (p) => p.programKey },
  { title: 'Deployments per day', field: 'deploymentFrequency.perDay', unit: 'perDay', band: 'deploymentFrequency.band' },
  { title: 'Lead time (h, median)', field: 'leadTime.hours.median', unit: 'hours', band: 'leadTime.band' },
  { title: 'Change failure rate (%)', field: 'changeFailureRate.rate', unit: 'percent', band: 'changeFailureRate.band' },
  { title: 'Time to restore (h, median)', field: 'timeToRestore.hours.median', unit: 'hours', band: 'timeToRestore.band' },
];

let order = { column: 0, ascending: true };

function compare(a, b, column) {
  const key = column.sort ?? ((p) => at(p, column.field));
  const [x, y] = [key(a), key(b)];
  if (x == null || y == null) return x == null ? (y == null ? 0 : 1) : -1; // empty values last
  return typeof x === 'string' ? x.localeCompare(y) : x - y;
}

/**
 * Renders `byProgram` into `container`; `names` maps keys to names, and `choose(key)` is
 * called when a row is chosen.
 */
export function drawPrograms(container, byProgram, names, choose) {
  const column = COLUMNS[order.column];
  const rows = [...byProgram].sort((a, b) => {
    const c = compare(a, b, column);
    return order.ascending || (column.field && (at(a, column.field) == null || at(b, column.field) == null)) ? c : -c;
  });
  const header = COLUMNS.map((c, i) => {
    const sorted = i === order.column;
    return h(
      'th',
      { scope: 'col', 'aria-sort': sorted ? (order.ascending ? 'ascending' : 'descending') : 'none' },
      h(
        'button',
        {
          type: 'button',
          class: 'sort',
          onclick: () => {
            order = { column: i, ascending: sorted ? !order.ascending : true };
            drawPrograms(container, byProgram, names, choose);
            container.querySelectorAll('th button')[i].focus();
          },
        },
        c.title,
        h('span', { 'aria-hidden': 'true', class: 'arrow' }, sorted ? (order.ascending ? ' ▲' : ' ▼') : ''),
      ),
    );
  });
  const body = rows.map((program) =>
    h(
      'tr',
      { dataset: { program: program.programKey }, onclick: () => choose(program.programKey) },
      h(
        'th',
        { scope: 'row' },
        h('button', { type: 'button', class: 'link', title: `Show ${program.programKey} only` }, program.programKey),
        h('span', { class: 'name' }, names.get(program.programKey) ?? ''),
      ),
      COLUMNS.slice(1).map((c) => {
        const band = at(program, c.band);
        const field = `byProgram.${byProgram.indexOf(program)}.${c.field}`;
        return h(
          'td',
          {},
          figure(field, c.unit, ROUNDED[c.unit](at(program, c.field))),
          ' ',
          h('span', { class: `pill band-${band.toLowerCase().replace('_', '-')}` }, spoken('band '), BAND_NAMES[band]),
        );
      }),
    ),
  );
  container.replaceChildren(
    h('table', { class: 'programs' }, h('caption', { class: 'sr' }, 'The four keys per program; choose a program to show it alone'),
      h('thead', {}, h('tr', {}, header)), h('tbody', {}, body)),
  );
}

// The trend as two charts (Chart.js, vendored), each with its figures as a table behind a
// toggle, for screen readers and for copying into slides.

import { figure, h } from './dom.js';
import { ROUNDED, bucketLabel } from './format.js';

const COLOURS = { deployments: '#2f6fb0', failed: '#c2412d', rate: '#c2412d', lead: '#5b4bb7' };
const charts = new Map();

/** One figure: a chart and a table of the same numbers, with a button between them. */
function chartFigure(container, id, caption, config, table) {
  let chart = charts.get(id);
  if (!container.querySelector('canvas')) {
    const canvas = h('canvas', { role: 'img', 'aria-label': `${caption}: the table button shows the figures` });
    const toggle = h('button', { type: 'button', class: 'link toggle', 'aria-pressed': 'false' }, 'Show as table');
    toggle.addEventListener('click', () => {
      const showTable = toggle.getAttribute('aria-pressed') !== 'true';
      toggle.setAttribute('aria-pressed', String(showTable));
      toggle.textContent = showTable ? 'Show as chart' : 'Show as table';
      container.classList.toggle('as-table', showTable);
    });
    container.append(toggle, h('div', { class: 'canvas-box' }, canvas), h('div', { class: 'figures scroll' }));
  }
  container.querySelector('.figures').replaceChildren(table);
  if (typeof Chart === 'undefined') {
    // Without the chart library the table stands in for the chart.
    container.classList.add('as-table');
    return;
  }
  if (chart) {
    chart.data = config.data;
    chart.options = config.options;
    chart.update();
  } else {
    chart = new Chart(container.querySelector('canvas'), config);
    charts.set(id, chart);
  }
}

const OPTIONS = {
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  interaction: { mode: 'index', intersect: false },
  plugins: { legend: { position: 'bottom' } },
};

function table(caption, columns, rows) {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.title)))),
    h('tbody', {}, rows.map((row, r) => h('tr', {}, columns.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c.cell(row, r)) : h('td', {}, c.cell(row, r))))))),
  );
}

/** Draws `trend` (metrics.trend buckets) at `granularity`. */
export function drawTrend(trend, granularity) {
  const labels = trend.map((b) => bucketLabel(b.start, granularity));
  const cell = (field, unit) => (bucket, index) => figure(`trend.${index}.${field}`, unit, ROUNDED[unit](bucket[field]));
  const period = { title: granularity === 'DAY' ? 'Day' : granularity.charAt(0) + granularity.slice(1).toLowerCase(), cell: (b) => bucketLabel(b.start, granularity) };

  chartFigure(
    document.getElementById('chart-deployments'),
    'deployments',
    'Deployments and failed deployments',
    {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'Deployments', data: trend.map((b) => b.deployments), backgroundColor: COLOURS.deployments },
          { label: 'Failed', data: trend.map((b) => b.failedDeployments), backgroundColor: COLOURS.failed },
        ],
      },
      options: { ...OPTIONS, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    },
    table('Deployments per bucket', [period,
      { title: 'Deployments', cell: cell('deployments', 'integer') },
      { title: 'Failed', cell: cell('failedDeployments', 'integer') }], trend),
  );

  const rounded = (values, unit) => values.map((v) => (v == null ? null : Number(ROUNDED[unit](v))));
  chartFigure(
    document.getElementById('chart-rates'),
    'rates',
    'Change failure rate and median lead time',
    {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'Change failure rate (%)', data: rounded(trend.map((b) => b.changeFailureRate), 'percent'), borderColor: COLOURS.rate, backgroundColor: COLOURS.rate, yAxisID: 'rate', spanGaps: true },
          { label: 'Median lead time (h)', data: rounded(trend.map((b) => b.leadTimeMedianHours), 'hours'), borderColor: COLOURS.lead, backgroundColor: COLOURS.lead, yAxisID: 'hours', spanGaps: true, borderDash: [6, 3] },
        ],
      },
      options: {
        ...OPTIONS,
        scales: {
          rate: { position: 'left', beginAtZero: true, title: { display: true, text: '%' } },
          hours: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'hours' } },
        },
      },
    },
    table('Change failure rate and median lead time per bucket', [period,
      { title: 'Change failure rate (%)', cell: cell('changeFailureRate', 'percent') },
      { title: 'Median lead time (h)', cell: cell('leadTimeMedianHours', 'hours') }], trend),
  );
}

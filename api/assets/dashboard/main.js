// The leadership dashboard (web.md): sign-in, the filter, and the parts of the page, all
// read through /graphql with the user's token.

import { Unauthenticated, graphql } from './api.js';
import { drawCalendar, drawInFlight } from './calendar.js';
import { drawTrend } from './charts.js';
import { drawDeliveries } from './deliveries.js';
import { byId, empty, h } from './dom.js';
import { DEFAULT_BENCHMARK, granularityFor, isoDate, previousOf, readFilter, windowOf, writeFilter } from './filters.js';
import { date } from './format.js';
import { drawImpact } from './impact.js';
import { conflictsByRelease, drawConflicts } from './conflicts.js';
import { drawAtRisk } from './risk.js';
import { drawPrograms } from './programs.js';
import { BENCHMARKS, CALENDAR, IMPACT, METRICS, PROGRAMS, TEAMS, VIEWER } from './queries.js';
import { forgetToken, keepToken, takeTokenFromFragment, token } from './session.js';
import { complianceTiles, deliveryTiles, keyTiles } from './tiles.js';

const DAY = 86_400_000;
const CALENDAR_DAYS = 56;
// The statuses of releases under way, which have a forecast (metrics.md, Forecast).
const UNDER_WAY = ['PLANNED', 'SCHEDULED', 'IN_BUILD', 'IN_TEST', 'APPROVED', 'DEPLOYING'];

// Roles that read deliveries and improvement impact: ANALYST and up.
const ANALYSTS = ['ANALYST', 'RELEASE_MANAGER', 'ADMIN'];
// The longest window improvementImpact lists actions of.
const IMPACT_DAYS = 366;

let filter = readFilter();
let viewer = null;
const names = new Map();
// Each load counts up; an answer for an older load than the latest is dropped.
let generation = 0;

const iso = (time) => new Date(time).toISOString();

function showSignIn(reason) {
  generation += 1;
  viewer = null;
  byId('board').hidden = true;
  byId('who').hidden = true;
  byId('sign-in').hidden = false;
  const why = byId('sign-in-reason');
  why.hidden = !reason;
  why.textContent = reason ?? '';
  document.body.dataset.state = 'signed-out';
  byId('token').focus();
}

function say(id, message) {
  const element = byId(id);
  element.hidden = !message;
  element.textContent = message ?? '';
}

/** What went wrong with the last load; cleared by the next one that succeeds. */
const problem = (message) => say('problem', message);
/** What the page did of its own accord; cleared when the user changes the filter. */
const notice = (message) => say('notice', message);

/** What to do with a failed request: back to sign-in when the token was refused. */
function failed(error) {
  if (error instanceof Unauthenticated) {
    forgetToken();
    showSignIn(`Your token was refused: ${error.message}. Sign in again.`);
  } else {
    problem(error.message);
    document.body.dataset.state = 'failed';
  }
}

async function allPrograms() {
  const programs = [];
  let after = null;
  do {
    const page = (await graphql(PROGRAMS, { after })).programs;
    programs.push(...page.nodes);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return programs;
}

function options(select, first, values) {
  select.replaceChildren(h('option', { value: '' }, first), ...values.map(([value, text]) => h('option', { value }, text)));
}

async function fillTeams() {
  const { teams } = await graphql(TEAMS, { programKeys: filter.program ? [filter.program] : null });
  if (!teams.includes(filter.team)) filter.team = '';
  options(byId('team'), 'All teams', teams.map((t) => [t, t]));
  byId('team').value = filter.team;
}

function showFilter() {
  byId('window').value = filter.window;
  byId('custom-dates').hidden = filter.window !== 'custom';
  byId('from').value = filter.from;
  byId('to').value = filter.to;
  byId('program').value = filter.program;
  byId('team').value = filter.team;
  byId('benchmark').value = filter.benchmark;
}

async function signIn() {
  try {
    ({ me: viewer } = await graphql(VIEWER));
    byId('sign-in').hidden = true;
    byId('board').hidden = false;
    byId('who').hidden = false;
    const scope = viewer.programKeys ? `, ${viewer.programKeys.join(', ')}` : '';
    byId('who-name').textContent = `${viewer.subject} (${viewer.role.toLowerCase().replace('_', ' ')}${scope})`;
    byId('graphiql-link').hidden = document.body.dataset.graphiql !== 'on';
    byId('deliveries-link').hidden = !ANALYSTS.includes(viewer.role);
    byId('impact-section').hidden = !ANALYSTS.includes(viewer.role);
    const programs = await allPrograms();
    names.clear();
    programs.forEach((p) => names.set(p.key, p.name));
    options(byId('program'), 'All programs', programs.map((p) => [p.key, `${p.key} · ${p.name}`]));
    if (filter.program && !names.has(filter.program)) {
      notice(`Program ${filter.program} is not among your programs; showing all of them.`);
      filter.program = '';
    }
    await fillTeams();
    const { benchmarks } = await graphql(BENCHMARKS);
    byId('benchmark').replaceChildren(...benchmarks.map((b) => h('option', { value: b.name }, b.name)));
    if (!benchmarks.some((b) => b.name === filter.benchmark)) {
      notice(`There is no benchmark edition ${filter.benchmark}; showing ${DEFAULT_BENCHMARK}.`);
      filter.benchmark = DEFAULT_BENCHMARK;
    }
    showFilter();
    await load();
  } catch (error) {
    failed(error);
  }
}

async function load() {
  const run = ++generation;
  const window = windowOf(filter);
  if (!window) {
    problem('Choose two dates, the second on or after the first.');
    return;
  }
  writeFilter(filter);
  document.body.dataset.state = 'loading';
  ['keys', 'delivery', 'compliance'].forEach((id) => byId(id).setAttribute('aria-busy', 'true'));
  byId('window-label').textContent =
    `${date(window.from)} to ${date(window.to - DAY)} (${window.days} days), against the ${window.days} days before`;

  const programKeys = filter.program ? [filter.program] : null;
  const team = filter.team || null;
  const benchmark = filter.benchmark;
  const granularity = granularityFor(window);
  const impact = ANALYSTS.includes(viewer?.role) && window.days <= IMPACT_DAYS
    ? graphql(IMPACT, { filter: { from: iso(window.from), to: iso(window.to), programKeys } })
    : Promise.resolve(null);
  const previous = previousOf(window);
  const today = Math.floor(Date.now() / DAY) * DAY;
  try {
    const [metrics, calendar, impacts] = await Promise.all([
      graphql(METRICS, {
        current: { from: iso(window.from), to: iso(window.to), programKeys, team, granularity, benchmark },
        previous: { from: iso(previous.from), to: iso(previous.to), programKeys, team, granularity: 'QUARTER', benchmark },
      }),
      graphql(CALENDAR, {
        from: iso(today),
        to: iso(today + CALENDAR_DAYS * DAY),
        programKeys,
        flight: { statuses: ['DEPLOYING', 'APPROVED'], programKeys, team },
        underWay: { statuses: UNDER_WAY, programKeys, team },
      }),
      impact,
    ]);
    if (run !== generation) return;
    problem(null);
    const { current } = metrics;
    byId('keys').replaceChildren(...keyTiles(current, metrics.previous, window.days));
    byId('delivery').replaceChildren(...deliveryTiles(current));
    byId('compliance').replaceChildren(...complianceTiles(current));
    ['keys', 'delivery', 'compliance'].forEach((id) => byId(id).setAttribute('aria-busy', 'false'));
    byId('trend').dataset.granularity = granularity;
    drawTrend(current.trend, granularity);
    drawPrograms(byId('programs'), current.byProgram, names, chooseProgram);
    const conflicts = conflictsByRelease(calendar.scheduleConflicts);
    drawCalendar(byId('calendar'), calendar.releaseCalendar, today, filter.team, conflicts);
    drawInFlight(byId('in-flight'), calendar.releases);
    drawAtRisk(byId('at-risk'), calendar.underWay);
    drawConflicts(byId('conflicts'), calendar.scheduleConflicts);
    byId('benchmark-name').textContent = current.benchmark.name;
    if (impacts) drawImpact(byId('impact'), impacts.improvementImpact);
    else byId('impact').replaceChildren(empty(`Choose a window of at most ${IMPACT_DAYS} days to see which actions worked.`));
    if (byId('open-deliveries').getAttribute('aria-expanded') === 'true') await showDeliveries();
    document.body.dataset.state = 'ready';
    performance.mark('relm:filled');
  } catch (error) {
    if (run === generation) failed(error);
  }
}

async function showDeliveries() {
  const window = windowOf(filter);
  await drawDeliveries(byId('deliveries'), {
    statuses: ['UNMATCHED', 'REJECTED'],
    programKeys: filter.program ? [filter.program] : null,
    from: iso(window.from),
    to: iso(window.to),
  });
}

async function chooseProgram(key) {
  filter.program = key;
  byId('program').value = key;
  await fillTeams().catch(failed);
  await load();
  byId('keys-title').scrollIntoView({ behavior: 'smooth' });
}

function wire() {
  byId('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const field = byId('token');
    keepToken(field.value);
    field.value = '';
    signIn();
  });
  byId('sign-out').addEventListener('click', () => {
    forgetToken();
    showSignIn(null);
  });
  byId('filters').addEventListener('submit', (event) => event.preventDefault());
  byId('filters').addEventListener('change', () => notice(null));
  byId('window').addEventListener('change', (event) => {
    filter.window = event.target.value;
    const custom = filter.window === 'custom';
    byId('custom-dates').hidden = !custom;
    if (custom && !(filter.from && filter.to)) {
      const shown = windowOf({ window: '90' });
      filter.from = isoDate(shown.from);
      filter.to = isoDate(shown.to - DAY);
      showFilter();
    }
    load();
  });
  for (const id of ['from', 'to']) {
    byId(id).addEventListener('change', (event) => {
      filter[id] = event.target.value;
      load();
    });
  }
  byId('program').addEventListener('change', async (event) => {
    filter.program = event.target.value;
    await fillTeams().catch(failed);
    load();
  });
  byId('team').addEventListener('change', (event) => {
    filter.team = event.target.value;
    load();
  });
  byId('benchmark').addEventListener('change', (event) => {
    filter.benchmark = event.target.value;
    load();
  });
  byId('open-deliveries').addEventListener('click', async (event) => {
    const open = event.target.getAttribute('aria-expanded') !== 'true';
    event.target.setAttribute('aria-expanded', String(open));
    byId('deliveries').hidden = !open;
    if (open) await showDeliveries().catch(failed);
  });
}

takeTokenFromFragment();
wire();
if (token()) signIn();
else showSignIn(null);

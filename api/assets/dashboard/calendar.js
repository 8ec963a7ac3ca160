// The next eight weeks (releaseCalendar) and the releases in flight with their readiness,
// each release with its forecast risk.

import { empty, h } from './dom.js';
import { date, shortDate } from './format.js';
import { conflictMark } from './conflicts.js';
import { riskBadge } from './risk.js';

const KIND_NAMES = { RELEASE: 'Release', DEPLOYMENT: 'Deployment', FREEZE: 'Freeze' };
const WEEK = 7 * 86_400_000;
// Entries shown per week before a "show all" button: busy programs plan many releases.
const SHOWN_PER_WEEK = 5;

const span = (entry) => {
  const start = Date.parse(entry.startsAt);
  const end = entry.endsAt ? Date.parse(entry.endsAt) : null;
  return end && shortDate(end) !== shortDate(start) ? `${shortDate(start)} – ${shortDate(end)}` : shortDate(start);
};

function describe(entry) {
  const release = entry.release ?? entry.deployment?.release;
  switch (entry.kind) {
    case 'RELEASE':
      return `${release.program.key} · ${release.status.replaceAll('_', ' ').toLowerCase()}`;
    case 'DEPLOYMENT': {
      const stage = entry.deployment.stage ? `, ${entry.deployment.stage}` : '';
      return `${release.program.key} to ${entry.deployment.environment.name}${stage} · ${entry.deployment.status.replaceAll('_', ' ').toLowerCase()}`;
    }
    default: {
      const scope = entry.freezeWindow.program ? entry.freezeWindow.program.key : 'every program';
      return `${scope}${entry.freezeWindow.reason ? ` · ${entry.freezeWindow.reason}` : ''}`;
    }
  }
}

/** Entries of `calendar` from `from` on, by week; with a team, only that team's releases
 *  and deployments (freeze windows apply to everyone). A release with schedule conflicts
 *  (`conflicts`, messages by release id) is marked. */
export function drawCalendar(container, calendar, from, team, conflicts = new Map()) {
  const entries = calendar.filter((entry) => {
    const release = entry.release ?? entry.deployment?.release;
    return !team || !release || release.teams.includes(team);
  });
  if (entries.length === 0) {
    container.replaceChildren(empty('Nothing planned in the next eight weeks.'));
    return;
  }
  const weeks = new Map();
  for (const entry of entries) {
    const week = Math.max(0, Math.floor((Date.parse(entry.startsAt) - from) / WEEK));
    if (!weeks.has(week)) weeks.set(week, []);
    weeks.get(week).push(entry);
  }
  container.replaceChildren(
    ...[...weeks].map(([week, list]) => {
      const items = list.map((entry, index) =>
        h(
          'li',
          { class: `entry entry-${entry.kind.toLowerCase()}`, hidden: index >= SHOWN_PER_WEEK },
          h('span', { class: 'kind' }, KIND_NAMES[entry.kind]),
          h('span', { class: 'when' }, span(entry)),
          h('span', { class: 'title' }, entry.title),
          h('span', { class: 'what' }, describe(entry)),
          riskBadge(entry.release?.forecast),
          entry.kind === 'RELEASE' ? conflictMark(conflicts.get(entry.release.id)) : null,
        ),
      );
      const all = list.length > SHOWN_PER_WEEK
        ? h('button', {
          type: 'button',
          class: 'link',
          onclick: (event) => {
            items.forEach((item) => { item.hidden = false; });
            event.target.remove();
          },
        }, `Show all ${list.length} of this week`)
        : null;
      return h(
        'section',
        { class: 'week', 'aria-label': `Week of ${date(from + week * WEEK)}` },
        h('h3', {}, week === 0 ? 'This week and running' : `Week of ${date(from + week * WEEK)}`),
        h('ul', { class: 'entries' }, items),
        all,
      );
    }),
  );
}

/** Releases DEPLOYING or APPROVED now, with what stands in their way. */
export function drawInFlight(container, releases) {
  if (releases.nodes.length === 0) {
    container.replaceChildren(empty('No release is approved or deploying now.'));
    return;
  }
  const more = releases.totalCount - releases.nodes.length;
  container.replaceChildren(
    h(
      'ul',
      { class: 'flight' },
      releases.nodes.map((release) =>
        h(
          'li',
          { dataset: { program: release.program.key } },
          h('p', { class: 'release' },
            h('strong', {}, `${release.program.key} ${release.version}`), ` ${release.name}`),
          h('p', { class: 'meta' },
            h('span', { class: `status status-${release.status.toLowerCase()}` }, release.status),
            release.type === 'EMERGENCY' ? h('span', { class: 'status status-emergency' }, 'EMERGENCY') : null,
            riskBadge(release.forecast),
            release.plannedEnd ? ` planned for ${date(Date.parse(release.plannedEnd))}` : ' no planned date'),
          release.readiness.ready
            ? h('p', { class: 'ready' }, '✓ Ready')
            : h('ul', { class: 'blockers', 'aria-label': 'Blockers' }, release.readiness.blockers.map((b) => h('li', {}, b))),
        ),
      ),
    ),
    ...(more > 0 ? [h('p', { class: 'detail' }, `and ${more} more`)] : []),
  );
}

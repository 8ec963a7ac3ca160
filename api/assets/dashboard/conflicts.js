// Part 8's schedule conflicts of the next eight weeks (communication.md, scheduleConflicts),
// and the mark the calendar puts on a release that has one.

import { empty, h } from './dom.js';

const KINDS = {
  FREEZE: 'Freeze',
  DEPENDENCY_ORDER: 'Dependency order',
  OVERDUE: 'Overdue',
  CROWDED_DAY: 'Crowded day',
};

/** The messages of each release's conflicts, by release id. */
export function conflictsByRelease(conflicts) {
  const byRelease = new Map();
  for (const conflict of conflicts) {
    const messages = byRelease.get(conflict.release.id) ?? [];
    messages.push(conflict.message);
    byRelease.set(conflict.release.id, messages);
  }
  return byRelease;
}

/** The calendar's mark on a release with conflicts; null without any. */
export function conflictMark(messages) {
  if (!messages?.length) return null;
  const label = messages.length === 1 ? 'conflict' : `${messages.length} conflicts`;
  return h('span', { class: 'status conflict', title: messages.join('\n') }, label);
}

export function drawConflicts(container, conflicts) {
  if (conflicts.length === 0) {
    container.replaceChildren(empty('No schedule conflicts in the next eight weeks.'));
    return;
  }
  container.replaceChildren(
    h(
      'ul',
      { class: 'conflicts' },
      conflicts.map((conflict) =>
        h(
          'li',
          { dataset: { kind: conflict.kind, program: conflict.release.program.key, version: conflict.release.version } },
          h('span', { class: 'status conflict' }, KINDS[conflict.kind] ?? conflict.kind),
          ` ${conflict.message}`,
        )),
    ),
  );
}

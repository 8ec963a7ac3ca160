// Deliveries that stayed UNMATCHED or REJECTED in the window: production change that went
// around the release process, for the users who may read them (ANALYST and above).

import { graphql } from './api.js';
import { empty, h } from './dom.js';
import { date } from './format.js';
import { DELIVERIES } from './queries.js';

const time = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit' });

function row(delivery) {
  const received = Date.parse(delivery.receivedAt);
  return h(
    'tr',
    {},
    h('td', {}, `${date(received)} ${time.format(received)}`),
    h('td', {}, h('span', { class: `status status-${delivery.status.toLowerCase()}` }, delivery.status)),
    h('td', {}, `${delivery.source.key} (${delivery.source.kind.toLowerCase()})`),
    h('td', {}, delivery.eventType),
    h('td', {}, [delivery.errorCode, delivery.reason].filter(Boolean).join(': ')),
  );
}

/** Lists the deliveries of `filter` (DeliveryFilter) in `container`, 20 at a time. */
export async function drawDeliveries(container, filter) {
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'link' }, 'Show more');
  const count = h('p', { class: 'detail' });
  container.replaceChildren(
    count,
    h('div', { class: 'scroll' }, h('table', {}, h('caption', { class: 'sr' }, 'Unmatched and rejected deliveries, newest first'),
      h('thead', {}, h('tr', {}, ['Received (UTC)', 'Status', 'Source', 'Event', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
      body)),
    more,
  );
  let after = null;
  const page = async () => {
    more.disabled = true;
    const { deliveries } = await graphql(DELIVERIES, { filter, after });
    body.append(...deliveries.nodes.map(row));
    count.textContent = `${deliveries.totalCount} in the window, newest first.`;
    after = deliveries.pageInfo.endCursor;
    more.hidden = !deliveries.pageInfo.hasNextPage;
    more.disabled = false;
    if (deliveries.totalCount === 0) container.replaceChildren(empty('None in the window.'));
  };
  more.addEventListener('click', () => page().catch((e) => { count.textContent = e.message; }));
  await page();
}

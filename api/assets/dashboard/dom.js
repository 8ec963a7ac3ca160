// Building the page from data: every value goes in as text, never as HTML, so a release
// name or a delivery's reason can never become markup.

/** An element with attributes (`dataset` and `on…` handlers too) and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

export const byId = (id) => document.getElementById(id);

/** Text for screen readers only. */
export const spoken = (text) => h('span', { class: 'sr' }, text);

/** A figure shown on the page: `field` names its place in the metrics answer (for tests and
 *  for anyone reading the page's source), `unit` how it was rounded. */
export const figure = (field, unit, text) => h('span', { dataset: { field, unit } }, text);

/** A short note where a section has nothing to show. */
export const empty = (text) => h('p', { class: 'empty' }, text);

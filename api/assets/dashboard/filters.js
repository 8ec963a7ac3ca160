// The page's filter (window, program, team, benchmark edition), kept in the address's query
// string so that a link shows the same figures, and the metrics window and trend
// granularity it gives.

const DAY = 86_400_000;
export const PRESETS = ['30', '90', '180', '365'];
export const DEFAULT_BENCHMARK = 'DORA_2023';

/** The filter in the address, with defaults for what is missing or malformed. */
export function readFilter(search = location.search) {
  const params = new URLSearchParams(search);
  const date = (name) => (/^\d{4}-\d{2}-\d{2}$/.test(params.get(name) ?? '') ? params.get(name) : '');
  const from = date('from');
  const to = date('to');
  const preset = params.get('window');
  return {
    window: from && to ? 'custom' : PRESETS.includes(preset) ? preset : '90',
    from,
    to,
    program: params.get('program') ?? '',
    team: params.get('team') ?? '',
    benchmark: /^[A-Z0-9_]{3,40}$/.test(params.get('benchmark') ?? '') ? params.get('benchmark') : DEFAULT_BENCHMARK,
  };
}

/** Puts the filter in the address without reloading. */
export function writeFilter(filter) {
  const params = new URLSearchParams();
  if (filter.window === 'custom') {
    params.set('from', filter.from);
    params.set('to', filter.to);
  } else {
    params.set('window', filter.window);
  }
  if (filter.program) params.set('program', filter.program);
  if (filter.team) params.set('team', filter.team);
  if (filter.benchmark !== DEFAULT_BENCHMARK) params.set('benchmark', filter.benchmark);
  history.replaceState(null, '', `${location.pathname}?${params}${location.hash}`);
}

const midnight = (time) => Math.floor(time / DAY) * DAY;
export const isoDate = (time) => new Date(time).toISOString().slice(0, 10);

/**
 * The metrics window `[from, to)` in milliseconds. A preset of N days ends at the coming
 * UTC midnight, so it holds today and the N - 1 days before; two dates hold both days.
 * Null when two dates are missing or the second is before the first.
 */
export function windowOf(filter, now = Date.now()) {
  if (filter.window === 'custom') {
    const from = Date.parse(`${filter.from}T00:00:00Z`);
    const to = Date.parse(`${filter.to}T00:00:00Z`) + DAY;
    if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return null;
    return { from, to, days: Math.round((to - from) / DAY) };
  }
  const days = Number(filter.window);
  const to = midnight(now) + DAY;
  return { from: to - days * DAY, to, days };
}

/** The window of the same length just before `window`. */
export const previousOf = (window) => ({ from: window.from - (window.to - window.from), to: window.from, days: window.days });

// Bucket indexes of a time, per granularity, in UTC; ISO weeks start on Monday, and
// 1 January 1970 was a Thursday.
const BUCKETS = {
  DAY: (t) => Math.floor(t / DAY),
  WEEK: (t) => Math.floor((Math.floor(t / DAY) + 3) / 7),
  MONTH: (t) => new Date(t).getUTCFullYear() * 12 + new Date(t).getUTCMonth(),
  QUARTER: (t) => new Date(t).getUTCFullYear() * 4 + Math.floor(new Date(t).getUTCMonth() / 3),
};

/** How many trend buckets `[from, to)` has at `granularity` (metrics.md, "Trend"). */
export const bucketCount = (window, granularity) =>
  BUCKETS[granularity](window.to - 1000) - BUCKETS[granularity](window.from) + 1;

/** The finest granularity giving 4 to 53 buckets (the coarsest fitting one for windows
 *  too long even for quarters, days for windows too short for four). */
export function granularityFor(window) {
  const fits = Object.keys(BUCKETS).find((g) => {
    const n = bucketCount(window, g);
    return n >= 4 && n <= 53;
  });
  if (fits) return fits;
  return bucketCount(window, 'DAY') < 4 ? 'DAY' : 'QUARTER';
}

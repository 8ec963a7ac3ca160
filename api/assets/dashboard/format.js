// How figures are shown. Values are those of Query.metrics, rounded for display only:
// hours and days to one decimal, rates to whole percent (web.md).

const NONE = '–';

export const hours = (value) => (value == null ? NONE : value.toFixed(1));
export const days = hours;
/** A rate as a whole percent, a number. */
export const wholePercent = (rate) => Math.round(rate * 100);
export const percent = (rate) => (rate == null ? NONE : String(wholePercent(rate)));
export const perDay = (value) => (value == null ? NONE : value.toFixed(2));
export const integer = (value) => (value == null ? NONE : value.toLocaleString('en-US'));

/** Rounds a value the way its unit is shown, for the figures of charts' tables. */
export const ROUNDED = { hours, days, percent, perDay, integer };

export const BAND_NAMES = { ELITE: 'Elite', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low', NO_DATA: 'No data' };

/** The relative change from `previous` to `current`; null when there is nothing to compare. */
export function change(current, previous) {
  if (current == null || previous == null || previous === 0) return null;
  return (current - previous) / Math.abs(previous);
}

const dates = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' });
const shortDates = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' });
const months = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', month: 'short', year: 'numeric' });

export const date = (time) => dates.format(new Date(time));
export const shortDate = (time) => shortDates.format(new Date(time));

/** A trend bucket's label at a granularity. */
export function bucketLabel(start, granularity) {
  const time = new Date(start);
  switch (granularity) {
    case 'DAY':
      return shortDate(time);
    case 'WEEK':
      return `w/c ${shortDate(time)}`;
    case 'MONTH':
      return months.format(time);
    default:
      return `Q${Math.floor(time.getUTCMonth() / 3) + 1} ${time.getUTCFullYear()}`;
  }
}

/** Reads a dotted path such as `leadTime.hours.median` out of an object. */
export const at = (object, path) => path.split('.').reduce((value, key) => value?.[key], object);

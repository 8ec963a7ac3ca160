// The user's token: taken from the `#token=` fragment (and removed from the address bar at
// once) or from the sign-in form, and kept in this tab's sessionStorage only, never in a
// cookie or localStorage.

const KEY = 'relm.token';

/** Moves a `#token=…` fragment into sessionStorage and out of the address bar. */
export function takeTokenFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (!fragment.has('token')) return;
  const token = fragment.get('token').trim();
  fragment.delete('token');
  const rest = fragment.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  if (token) sessionStorage.setItem(KEY, token);
}

export const token = () => sessionStorage.getItem(KEY);

export const keepToken = (value) => sessionStorage.setItem(KEY, value.trim());

export const forgetToken = () => sessionStorage.removeItem(KEY);

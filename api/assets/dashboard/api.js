// GraphQL over HTTP with the user's token.

import { token } from './session.js';

/** The token was refused (missing, expired, badly signed): the user must sign in again. */
export class Unauthenticated extends Error {}

/** relm refused or could not answer the request; `message` says why. */
export class Refused extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        Authorization: `Bearer ${token() ?? ''}`,
      },
      body: JSON.stringify({ query, variables }),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new Refused('relm cannot be reached; check the connection and try again.');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Refused(`relm answered ${response.status} without a GraphQL response.`);
  }
  const error = body.errors?.[0];
  const code = error?.extensions?.code;
  if (response.status === 401 || code === 'UNAUTHENTICATED') {
    throw new Unauthenticated(error?.message ?? 'the token was refused');
  }
  if (error) throw new Refused(error.message, code);
  return body.data;
}

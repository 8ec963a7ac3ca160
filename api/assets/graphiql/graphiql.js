// GraphiQL on relm's own copy of its files. The dashboard's token (kept in this tab's
// sessionStorage) pre-fills the Authorization header; GraphiQL keeps its own state in
// sessionStorage too, so no token ever lands in localStorage.
'use strict';

(function start() {
  const TOKEN = 'relm.token';
  const NAMESPACE = 'graphiql:';
  const token = sessionStorage.getItem(TOKEN);
  const headers = token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined;

  // GraphiQL's Storage interface over this tab's sessionStorage, touching its own keys only.
  const storage = {
    getItem: (key) => sessionStorage.getItem(key),
    setItem: (key, value) => sessionStorage.setItem(key, value),
    removeItem: (key) => sessionStorage.removeItem(key),
    get length() {
      return Object.keys(sessionStorage).filter((key) => key.startsWith(NAMESPACE)).length;
    },
    clear() {
      Object.keys(sessionStorage)
        .filter((key) => key.startsWith(NAMESPACE))
        .forEach((key) => sessionStorage.removeItem(key));
    },
  };

  const socket = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
  const fetcher = GraphiQL.createFetcher({
    url: '/graphql',
    subscriptionUrl: socket,
    wsConnectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  });

  const welcome = [
    '# relm: release data and analytics.',
    '# Every request needs an Authorization header (see Headers below); the dashboard',
    "# fills it in with its own token. Press the run button or Ctrl-Enter.",
    '',
    '{',
    '  me {',
    '    subject',
    '    role',
    '    programKeys',
    '  }',
    '}',
    '',
  ].join('\n');

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      storage,
      defaultQuery: welcome,
      defaultHeaders: headers,
      headers,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: headers ? 'headers' : true,
    }),
  );
})();

// Starts GraphiQL on Quartet's GET /graphql page. Served from the server binary, like
// every other file the page loads (see README.md beside this file).
//
// URL parameters:
//   query, variables, operationName: the editors' starting contents (kept in the URL
//     as you edit, so a URL shares what you typed);
//   run: with query, run that query once the editors are ready. Only a document
//     without the word "mutation" is run this way, so a link cannot make a visitor
//     change anything (a subscription runs: it only reads).
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var params = new URLSearchParams(window.location.search);
  var endpoint = new URL(root.getAttribute('data-endpoint'), window.location.origin);
  // Subscriptions: the same path over WebSocket (graphql-transport-ws, which the
  // bundled graphql-ws client speaks).
  var subscriptionUrl = new URL(endpoint.toString());
  subscriptionUrl.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  var DEFAULT_QUERY = [
    '# Quartet: events, venues, performers, seats and bookings.',
    '# Ctrl-Enter runs it. Docs: the top-left icon.',
    '{',
    '  event(id: "1") {',
    '    name',
    '    startsAt',
    '    venue { name city }',
    '    performers { name }',
    '    availability { name available }',
    '  }',
    '}',
    '',
  ].join('\n');

  function keepInUrl(name) {
    return function (value) {
      var next = new URLSearchParams(window.location.search);
      if (value) {
        next.set(name, value);
      } else {
        next.delete(name);
      }
      window.history.replaceState(null, '', '?' + next.toString());
    };
  }

  // Clicks "run" once both editors exist (GraphiQL ignores a run before that), at most
  // once, giving up after about ten seconds.
  function runWhenReady(attemptsLeft) {
    var ready =
      document.querySelector('.graphiql-query-editor .CodeMirror') &&
      document.querySelector('.graphiql-response .CodeMirror');
    var button = document.querySelector('.graphiql-execute-button');
    if (ready && button) {
      window.setTimeout(function () {
        button.click();
      }, 0);
    } else if (attemptsLeft > 0) {
      window.setTimeout(function () {
        runWhenReady(attemptsLeft - 1);
      }, 50);
    }
  }

  var props = {
    fetcher: GraphiQL.createFetcher({
      url: endpoint.toString(),
      subscriptionUrl: subscriptionUrl.toString(),
    }),
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: params.has('variables'),
    onEditQuery: keepInUrl('query'),
    onEditVariables: keepInUrl('variables'),
    onEditOperationName: keepInUrl('operationName'),
  };
  if (params.has('query')) {
    props.query = params.get('query');
  }
  if (params.has('variables')) {
    props.variables = params.get('variables');
  }
  if (params.has('operationName')) {
    props.operationName = params.get('operationName');
  }

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));

  var runnable = params.has('query') && props.query.search(/\bmutation\b/) === -1;
  if (params.has('run') && runnable) {
    runWhenReady(200);
  }
})();

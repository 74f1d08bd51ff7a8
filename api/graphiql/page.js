// GraphiQL for xhsz, served by the app itself (no CDN): works on a closed network and under a
// Content-Security-Policy of 'self'. Parameters come from the URL's query or, for the bearer
// token, its fragment (#headers=…), which browsers never send to the server or its logs. The query
// travels as ?q= (a ?query= parameter would make /graphql run it instead of showing the IDE).
(function () {
  "use strict";

  const WELCOME = `# xhsz — 享惠受阻协调申请 GraphQL API
#
# 1. Log in (mutation login) or paste a token from \`xhsz token USERNAME\` into the
#    Headers tab:  {"Authorization": "Bearer <token>"}
# 2. Run a query with Ctrl-Enter, e.g.:
{
  viewer { username role enterprise { uscc name } }
}
# 3. Subscriptions run too (over a WebSocket), e.g.:
#    subscription { coordinationEvents { kind coordinationNo status version at } }
`;
  const HEADERS_HINT = JSON.stringify({ Authorization: "Bearer <paste your token here>" }, null, 2);

  function readParameters(text) {
    const parameters = {};
    for (const entry of text.split("&")) {
      const eq = entry.indexOf("=");
      if (eq > 0) {
        parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
          entry.slice(eq + 1).replace(/\+/g, " "),
        );
      }
    }
    return parameters;
  }

  const query = readParameters(window.location.search.slice(1));
  const fragment = readParameters(window.location.hash.slice(1));
  const initial = {
    query: query.q || WELCOME,
    variables: query.variables,
    headers: fragment.headers || query.headers || HEADERS_HINT,
  };
  // The token must not linger in the address bar or the browser history.
  if (window.location.hash) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  // Subscriptions go over a WebSocket to the same path (graphql-transport-ws); the Headers tab
  // becomes connection_init's payload, so {"Authorization": "Bearer …"} authenticates both.
  const url = window.location.href.split(/[?#]/)[0];
  const fetcher = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: url.replace(/^http/, "ws"),
    headers: { "GraphQL-Require-Preflight": "1" },
  });

  function App() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultQuery: initial.query,
      query: initial.query,
      variables: initial.variables,
      headers: initial.headers,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();

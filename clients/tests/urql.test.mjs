// urql with Graphcache: relayPagination() merges three pages of the coordinations connection
// (keyset cursors) into one list in the normalized cache, in the server's order.
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { Client, fetchExchange, gql } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";

import { GRAPHQL, introspection, login, saveRequest } from "./lib.mjs";

const PAGE = gql`
  query Page($first: Int!, $after: String) {
    coordinations(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { __typename ... on Coordination { id coordinationNo reason } } }
    }
  }
`;
let token;
let schema;

before(async () => {
  token = await login("demo2");
  schema = await introspection();
});

test("relayPagination merges three pages into one list, newest first", async () => {
  const saved = [];
  for (let index = 1; index <= 6; index += 1) {
    saved.push(await saveRequest(token, `urql 分页 ${index}`));
  }
  const client = new Client({
    url: GRAPHQL,
    exchanges: [
      cacheExchange({
        schema,
        keys: { CoordinationConnection: () => null, CoordinationEdge: () => null, PageInfo: () => null },
        resolvers: { Query: { coordinations: relayPagination() } },
      }),
      fetchExchange,
    ],
    fetchOptions: () => ({ headers: { Authorization: `Bearer ${token}` } }),
    preferGetMethod: false,
  });

  let after = null;
  let result;
  const cursors = [];
  for (let page = 1; page <= 3; page += 1) {
    result = await client.query(PAGE, { first: 2, after }).toPromise();
    assert.equal(result.error, undefined, String(result.error));
    const connection = result.data.coordinations;
    // What the cache hands back is every page so far, merged.
    assert.equal(connection.edges.length, page * 2);
    cursors.push(connection.pageInfo.endCursor);
    after = connection.pageInfo.endCursor;
  }
  assert.equal(new Set(cursors).size, 3, "each page has a cursor of its own");
  const merged = result.data.coordinations;
  assert.ok(merged.totalCount >= 6);
  const ids = merged.edges.map((edge) => edge.node.id);
  assert.equal(new Set(ids).size, 6, "no request twice");
  // The six just saved, newest first (the connection's default order).
  assert.deepEqual(ids, saved.map((request) => request.id).reverse());
  assert.deepEqual(
    merged.edges.map((edge) => edge.node.reason),
    [6, 5, 4, 3, 2, 1].map((index) => `urql 分页 ${index}`),
  );
  assert.ok(merged.edges.every((edge) => edge.node.__typename === "CcpitCertificateRequest"));

  // Read again from the cache alone: the merged list, no request to the server.
  const cached = await client.query(PAGE, { first: 2, after: cursors[1] }, { requestPolicy: "cache-only" }).toPromise();
  assert.equal(cached.data.coordinations.edges.length, 6);
});

// Trusted documents: the server runs with XHSZ_TRUSTED_DOCUMENTS=generated/persisted-documents.json
// (what codegen's client preset wrote for src/operations.ts) and XHSZ_TRUSTED_DOCUMENTS_ONLY=true.
// The shipped operations run by hash or documentId (POST and GET); anything else is refused with
// PERSISTED_QUERY_NOT_ALLOWED before it is parsed, and nothing can be registered.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { before, test } from "node:test";

import { parse } from "graphql";

import { GRAPHQL, PASSWORD, post } from "../tests/lib.mjs";

const manifest = JSON.parse(await readFile(new URL("../generated/persisted-documents.json", import.meta.url), "utf8"));
const ids = Object.fromEntries(
  Object.entries(manifest).map(([id, document]) => [parse(document).definitions[0].name.value, id]),
);
const byHash = (id, variables = {}) => ({
  variables,
  extensions: { persistedQuery: { version: 1, sha256Hash: id } },
});
let token;

async function get(params) {
  const url = new URL(GRAPHQL);
  for (const [name, value] of Object.entries(params)) {
    url.searchParams.set(name, typeof value === "string" ? value : JSON.stringify(value));
  }
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${token}`, Accept: "application/graphql-response+json" },
  });
  return { status: response.status, body: await response.json() };
}

before(async () => {
  assert.deepEqual(Object.keys(ids).sort(), ["CoordinationPage", "Login", "TradeAgreements", "ViewerProfile"]);
  const { status, body } = await post(byHash(ids.Login, { username: "demo", password: PASSWORD }));
  assert.equal(status, 200, JSON.stringify(body));
  token = body.data.login.token;
  assert.ok(token);
});

test("the shipped operations run by hash, by documentId and by their exact text, over POST and GET", async () => {
  const viewer = await get({ documentId: ids.ViewerProfile });
  assert.equal(viewer.status, 200);
  assert.equal(viewer.body.data.viewer.username, "demo");

  const bare = ids.TradeAgreements.replace(/^sha256:/, "");
  const agreements = await get(byHash(bare));
  assert.ok(agreements.body.data.tradeAgreements.length > 0);

  const page = await post({ documentId: ids.CoordinationPage, variables: { first: 2 } }, { token });
  assert.equal(page.status, 200, JSON.stringify(page.body));
  assert.ok(Array.isArray(page.body.data.coordinations.edges));

  const text = await post({ query: manifest[ids.ViewerProfile] }, { token });
  assert.equal(text.body.data.viewer.username, "demo");
});

test("anything else is refused before it is parsed, and cannot be registered", async () => {
  const other = "query Other { viewer { username } }";
  const otherHash = createHash("sha256").update(other).digest("hex");
  const refused = [
    { query: other },
    { query: "{ this is { not GraphQL" },
    { query: `${manifest[ids.ViewerProfile]} ` },
    { query: other, extensions: { persistedQuery: { version: 1, sha256Hash: otherHash } } },
    byHash(otherHash),
    { documentId: `sha256:${otherHash}` },
  ];
  for (const body of refused) {
    const answer = await post(body, { token, headers: { "Accept-Language": "en" } });
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.deepEqual(
      answer.body.errors.map((error) => error.extensions.code),
      ["PERSISTED_QUERY_NOT_ALLOWED"],
      JSON.stringify(answer.body),
    );
  }
  const chinese = await post({ query: other }, { token });
  assert.match(chinese.body.errors[0].message, /可信文档/);
  const overGet = await get({ query: other });
  assert.equal(overGet.body.errors[0].extensions.code, "PERSISTED_QUERY_NOT_ALLOWED");
});

// Typed operations a front end ships: codegen types them from the live schema, `tsc --strict`
// compiles their use, and the client preset lists them in generated/persisted-documents.json.
import { graphql } from "../generated/gql";
import type { CoordinationPageQuery, LoginMutation, ViewerProfileQuery } from "../generated/graphql";

export const Login = graphql(`
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      token
      expiresAt
      errors { field code message }
    }
  }
`);

export const ViewerProfile = graphql(`
  query ViewerProfile {
    viewer { username role enterprise { uscc name } }
  }
`);

export const CoordinationPage = graphql(`
  query CoordinationPage($first: Int!, $after: String) {
    coordinations(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          __typename
          ... on Coordination { id coordinationNo status statusLabel version }
          ... on CustomsCertificateRequest { importCountry { code nameZh } }
        }
      }
    }
  }
`);

export const TradeAgreements = graphql(`
  query TradeAgreements {
    tradeAgreements { code nameZh nameEn partners { code nameZh } }
  }
`);

export function bearer(result: LoginMutation): string {
  const token = result.login.token;
  if (token == null) {
    throw new Error(result.login.errors.map((error) => `${error.code}: ${error.message}`).join("; "));
  }
  return `Bearer ${token}`;
}

export function enterpriseOf(result: ViewerProfileQuery): string | null {
  const role: "ENTERPRISE" | "CUSTOMS" = result.viewer.role;
  return role === "ENTERPRISE" ? (result.viewer.enterprise?.uscc ?? null) : null;
}

export function numbers(page: CoordinationPageQuery): string[] {
  return page.coordinations.edges.map((edge) => edge.node.coordinationNo);
}

export function ports(page: CoordinationPageQuery): string[] {
  return page.coordinations.edges.flatMap((edge) =>
    edge.node.__typename === "CustomsCertificateRequest" ? [edge.node.importCountry.code] : [],
  );
}

// Must NOT compile: proves the generated types are real (a field the query did not select).
import type { ViewerProfileQuery } from "../generated/graphql";

export function password(result: ViewerProfileQuery): string {
  return result.viewer.passwordHash;
}

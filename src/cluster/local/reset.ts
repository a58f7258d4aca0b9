/**
 * The local provider's reset is the one every provider uses: see
 * `src/cluster/reset.ts`. Kept as a name here for the local provider's import.
 */
export { resetClusterObjects } from "../reset.ts";

/**
 * The Debian packages the local cluster's node runs: installed on the host by
 * `src/setup/` and baked into the all-in-one image by `src/images/`, so both
 * read this one list.
 */
export const NODE_PACKAGES = [
  "containerd",
  "runc",
  "containernetworking-plugins",
  "docker-registry",
  "iproute2",
  "nftables",
];

/**
 * A registry of a test's own: Debian's docker-registry, plain HTTP on a free
 * port of `host` (loopback unless told: the node's address makes a registry
 * under another name than any the node mirrors), its storage under `dir`
 * (the test removes it).
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RegistryClient, registryConfigYaml } from "../../src/images/registry.ts";
import { freePort } from "./server.ts";

export interface TestRegistry {
  /** host:port */
  address: string;
  stop(): void;
}

export async function startTestRegistry(dir: string, host = "127.0.0.1"): Promise<TestRegistry> {
  const address = `${host}:${await freePort()}`;
  writeFileSync(join(dir, "config.yml"), registryConfigYaml(join(dir, "storage"), address));
  const server = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: "ignore" });
  const client = new RegistryClient(address);
  for (let i = 0; i < 100 && !(await client.ping()); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await client.ping())) {
    server.kill("SIGTERM");
    throw new Error(`docker-registry did not come up on ${address}`);
  }
  return { address, stop: () => server.kill("SIGTERM") };
}

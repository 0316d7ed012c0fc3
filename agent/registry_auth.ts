/**
 * Which `registryCredentials` entry applies to an image: the one whose address is the image's
 * registry (Docker Hub when the reference names none).
 */
import type { RegistryCredential } from "./manifest.ts";
import type { RegistryAuth } from "./engine/driver.ts";

const DOCKER_HUB = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** The registry host of an image reference (`docker.io` when it has none). */
export function imageRegistry(image: string): string {
  const slash = image.indexOf("/");
  if (slash < 0) return "docker.io";
  const first = image.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : "docker.io";
}

function hostOf(address: string): string {
  return address.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
}

/** The credentials for `image`, if the deployment has any for its registry. */
export function credentialsFor(
  image: string,
  credentials: Readonly<Record<string, RegistryCredential>>,
): RegistryAuth | undefined {
  const registry = imageRegistry(image).toLowerCase();
  for (const credential of Object.values(credentials)) {
    const host = hostOf(credential.address);
    if (host === registry || (DOCKER_HUB.has(host) && DOCKER_HUB.has(registry))) {
      return {
        username: credential.username,
        password: credential.password,
        serveraddress: credential.address,
      };
    }
  }
  return undefined;
}

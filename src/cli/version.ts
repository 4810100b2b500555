/** The package version (for --version and the default User-Agent), read once. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function version(): string {
  // dist/src/cli/ when built, src/cli/ when run from source (tests).
  for (const path of ['../../../package.json', '../../package.json']) {
    if (cached !== undefined) break;
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'segdl') cached = pkg.version;
    } catch {
      // not this one
    }
  }
  return (cached ??= '0.0.0');
}

/**
 * A Node built-in module loaded the first time it is needed, so a run that never needs it (a plain
 * http download without `--checksum`) never pays for loading it: start-up is most of a small
 * download's time (issue 13). `import()` cannot be used for this: the CLI bundle runs as a
 * `vm.Script` from a code cache, where a dynamic import has no loader to call.
 */
type BuiltinId = 'node:crypto' | 'node:tls' | 'node:dns/promises';
type Builtins = { 'node:crypto': typeof import('node:crypto'); 'node:tls': typeof import('node:tls'); 'node:dns/promises': typeof import('node:dns/promises') };

export async function lazyBuiltin<Id extends BuiltinId>(id: Id): Promise<Builtins[Id]> {
  // Node 20.16+ and 22; older releases: the bundle's (or any CommonJS) require, else import().
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (get !== undefined) return get(id) as Builtins[Id];
  if (typeof require === 'function') return require(id) as Builtins[Id];
  return (await import(id)) as Builtins[Id];
}

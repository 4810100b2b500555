/** The parts of aria2.js (npm `aria2`, untyped CommonJS) the RPC tests use. */
declare module 'aria2' {
  import { EventEmitter } from 'node:events';
  interface Aria2Options {
    host?: string;
    port?: number;
    secure?: boolean;
    secret?: string;
    path?: string;
  }
  class Aria2 extends EventEmitter {
    constructor(options?: Aria2Options);
    /** `method` without the `aria2.` prefix is prefixed; the secret goes first. */
    call(method: string, ...params: unknown[]): Promise<any>;
    multicall(calls: Array<[string, ...unknown[]]>): Promise<any[]>;
    batch(calls: Array<[string, ...unknown[]]>): Promise<Array<Promise<any>>>;
    listMethods(): Promise<string[]>;
    listNotifications(): Promise<string[]>;
    open(): Promise<void>;
    close(): Promise<void>;
  }
  export = Aria2;
}

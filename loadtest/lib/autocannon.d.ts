/** The part of autocannon 8's programmatic API that loadtest/lib/load.ts uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      /** Called before every send of this request; returns the request to send. */
      setupRequest?: (request: Request) => Request;
    }
    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Stop after this many answers instead of after `duration`. */
      amount?: number;
      /** Seconds before a request counts as timed out (an error). */
      timeout?: number;
      headers?: Record<string, string>;
      requests?: Request[];
    }
    /** `errors` includes `timeouts`. */
    interface Result {
      errors: number;
      timeouts: number;
    }
    /** The running instance: an event emitter that is also a promise of the result. */
    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
      on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}

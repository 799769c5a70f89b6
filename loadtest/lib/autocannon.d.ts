/** The part of autocannon 8's programmatic API that loadtest/lib/load.ts uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      /** Called before every send of this request; returns the request to send. */
      setupRequest?: (request: Request) => Request;
    }
    interface Options {
      url: string;
      connections?: number;
      /** Seconds; or `amount`: stop after that many answers. */
      duration?: number;
      amount?: number;
      /** Seconds before a request counts as timed out (an error). */
      timeout?: number;
      headers?: Record<string, string>;
      requests?: Request[];
    }
    /** The running instance: an event emitter and a promise of the result (`errors` includes `timeouts`). */
    interface Instance extends EventEmitter, PromiseLike<{ errors: number; timeouts: number }> {
      stop(): void;
      on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}

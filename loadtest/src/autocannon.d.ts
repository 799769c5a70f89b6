/**
 * The part of autocannon 8's programmatic API the load tests use (the package ships no types).
 * See node_modules/autocannon/README.md and lib/run.js for the full surface.
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      /** Called before every send of this request; returns the request to send (a falsy value skips it). */
      setupRequest?: (request: Request, context: Record<string, unknown>) => Request | null | undefined;
      /** Called with every response to this request, body included, before the instance's `response` event. */
      onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, unknown>) => void;
    }

    /** One connection. Emits `request` on every send and `response` on every answer. */
    interface Client extends EventEmitter {}

    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Requests per second over all connections; autocannon lowers `connections` to this when it is smaller. */
      overallRate?: number;
      /** Seconds before a request counts as timed out (an error). */
      timeout?: number;
      pipelining?: number;
      requests?: Request[];
      setupClient?: (client: Client) => void;
      headers?: Record<string, string>;
      method?: string;
      body?: string;
    }

    interface Result {
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      totalRequests: number;
      totalCompletedRequests: number;
      start: Date;
      finish: Date;
    }

    /** The running instance: an event emitter that is also a promise of the result. */
    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
      catch(onRejected: (error: unknown) => void): Promise<unknown>;
      on(event: 'response', listener: (client: Client, statusCode: number, resBytes: number, responseTime: number) => void): this;
      on(event: 'reqError', listener: (error: Error) => void): this;
      on(event: 'start' | 'done' | 'tick', listener: (...args: unknown[]) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}

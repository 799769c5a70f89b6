import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line of a request carries. Koa runs each request inside this storage. */
export interface RequestStore {
  state: { requestId?: string };
}

export type RequestContextStorage = AsyncLocalStorage<RequestStore>;

export const createRequestContextStorage = (): RequestContextStorage => new AsyncLocalStorage<RequestStore>();

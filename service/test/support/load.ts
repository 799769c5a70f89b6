import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadRun, LoadSpec } from '../../../loadtest/lib/load';

/** A load run's figures without its histogram (what crosses the thread boundary). */
export type LoadFigures = Omit<LoadRun, 'histogram'>;

/**
 * Runs `runLoad` of loadtest/lib/load.ts (the one load generator) on a worker thread, leaving the main thread to the
 * in-process service. Only plain specs cross threads: a fixed `path`, no callbacks or signal.
 */
export function runLoadOffThread(spec: Omit<LoadSpec, 'path' | 'onAnswer' | 'onNoAnswer' | 'signal'> & { path: string }): Promise<LoadFigures> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'load-worker.cjs'), { workerData: spec });
    worker.once('message', (figures: LoadFigures) => {
      resolve(figures);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

// Runs the project's one load generator (loadtest/lib/load.ts) on its own thread, so the load does not share an event
// loop with the in-process service it measures. Posts the run's figures (the histogram stays here: it is not cloneable).
const { parentPort, workerData } = require('node:worker_threads');
require('tsx/cjs/api').register();
const { runLoad } = require('../../../loadtest/lib/load.ts');

runLoad(workerData).then(({ histogram: _histogram, ...figures }) => parentPort.postMessage(figures));

/**
 * Entry point of `npm run loadtest`. Ctrl-C stops the load, clears a drill and still writes the (partial) report;
 * a second Ctrl-C exits at once.
 */
import { EXIT, parseOptions, runLoadtest, USAGE } from './loadtest';
import { SetupError } from './service-api';

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof SetupError) {
      console.error(`loadtest: ${error.message} (--help for usage)`);
      return EXIT.setup;
    }
    throw error;
  }
  if (options === null) {
    console.log(USAGE);
    return EXIT.pass;
  }

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      console.error(`loadtest: ${signal} again, exiting now (a drill may still be active: DELETE /admin/drills)`);
      process.exit(130);
    }
    console.error(`loadtest: ${signal}: stopping the load, clearing any drill, writing the report (again to exit now)`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    return await runLoadtest(options, {
      err: (line) => process.stderr.write(`${line}\n`),
      out: (line) => process.stdout.write(`${line}\n`),
      signal: abort.signal,
    });
  } catch (error) {
    if (error instanceof SetupError) {
      console.error(`loadtest: ${error.message}`);
      return EXIT.setup;
    }
    console.error(`loadtest: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return EXIT.setup;
  }
}

void main().then((code) => process.exit(code));

// The HTTP API. It only enqueues and reads: scraping never runs in this process. With WORKERS > 1 this
// process is a node:cluster primary that runs that many API processes on one port.
import cluster from 'node:cluster';
import { checkApiDependencies, startApiProcess } from './lib/api/boot.ts';
import { reportApiReady, runApiPrimary } from './lib/api/cluster.ts';
import { loadConfig } from './lib/config.ts';
import { dashboardPages } from './lib/dashboard/pages.tsx';
import { createLogger } from './lib/log.ts';
import { exitOnStartupError } from './lib/startup-error.ts';

const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    return exitOnStartupError(error);
  }
})();
const log = createLogger(config.logLevel, { process: 'api', pid: process.pid });

if (config.apiWorkers > 1 && cluster.isPrimary) {
  await checkApiDependencies(config, log).catch(exitOnStartupError);
  runApiPrimary(config.apiWorkers, log);
} else {
  const api = await startApiProcess(config, log, dashboardPages).catch(exitOnStartupError);
  reportApiReady();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info('api_stopping', { signal });
      // In-flight requests get a few seconds; the timer is a backstop for keep-alive connections that linger.
      setTimeout(() => process.exit(0), 5_000).unref();
      api.stop().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

// Serves every source's recorded answers (recorded-upstreams.ts) until SIGTERM or SIGINT, for a container on a
// compose network or a demo:
//   node --import tsx test/helpers/serve-recorded.ts [--host 0.0.0.0] [--base-port 8100] [--public-origin http://upstream] [--delay-ms N]
// Prints the environment that points the app at them (SOURCE_BASE_URL_<NAME>=…, one a line), then "ready".
// With --print-env (and --base-port, --public-origin) it prints that environment only, and serves nothing.
import { parseArgs } from 'node:util';
import { allRecordedEnv, startRecordedUpstreams } from './recorded-upstreams.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    'base-port': { type: 'string', default: '0' },
    'public-origin': { type: 'string' },
    'delay-ms': { type: 'string', default: '0' },
    'print-env': { type: 'boolean', default: false },
  },
});

if (values['print-env']) {
  if (!values['public-origin'] || !Number(values['base-port'])) throw new Error('--print-env needs --public-origin and --base-port');
  for (const [name, value] of Object.entries(allRecordedEnv(values['public-origin'], Number(values['base-port'])))) process.stdout.write(`${name}=${value}\n`);
  process.exit(0);
}

const recorded = await startRecordedUpstreams({
  host: values.host,
  basePort: Number(values['base-port']),
  publicOrigin: values['public-origin'],
  delayMs: Number(values['delay-ms']),
});
for (const [name, value] of Object.entries(recorded.env)) process.stdout.write(`${name}=${value}\n`);
process.stdout.write('ready\n');

const stop = () => {
  void recorded.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

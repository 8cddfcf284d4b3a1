// A process that copies one batch of the history outbox and is then killed (SIGKILL, by itself) before it settles
// any scrape-all parent: the worst moment for a flusher to die. Its namespace comes from the environment.
import { loadConfig } from '../../lib/config.ts';
import { createSql } from '../../lib/db/client.ts';
import { copyJobHistory } from '../../lib/history/copy.ts';
import { silentLogger } from '../../lib/log.ts';
import { JobQueue } from '../../lib/queue/queue.ts';
import { queueSettings } from '../../lib/queue/settings.ts';
import { createRedis } from '../../lib/redis/client.ts';

const config = loadConfig();
const queue = new JobQueue(createRedis(config.redisUrl, silentLogger, 'copy-then-die'), queueSettings(config));
const sql = createSql(config.databaseUrl, silentLogger, { max: 1 });
const copied = await copyJobHistory(queue.outbox(), sql);
process.stdout.write(`${JSON.stringify({ event: 'copied', copied })}\n`);
process.kill(process.pid, 'SIGKILL');

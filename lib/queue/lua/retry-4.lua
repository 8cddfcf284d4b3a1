-- Puts a dead (quarantined) or failed job back in the pending list as a fresh job: attempts start again from
-- zero, its last error is kept as previous_error, and it no longer expires.
-- KEYS[1] pending list   KEYS[2] dead list   KEYS[3] the job's hash   KEYS[4] failed zset
-- ARGV[1] job id   ARGV[2] job key prefix
-- Returns 'requeued', 'missing', or the status that cannot be retried.
local id = ARGV[1]
local status = redis.call('HGET', KEYS[3], 'status')
if not status then return 'missing' end
if status ~= 'dead' and status ~= 'failed' then return status end
redis.call('LREM', KEYS[2], 0, id)
redis.call('ZREM', KEYS[4], id)
local last_error = redis.call('HGET', KEYS[3], 'error')
if last_error and last_error ~= '' then redis.call('HSET', KEYS[3], 'previous_error', last_error) end
redis.call('HDEL', KEYS[3], 'error', 'finished_at', 'result', 'progress', 'worker', 'cancel_requested')
redis.call('HSET', KEYS[3], 'status', 'pending', 'attempts', 0)
redis.call('PERSIST', KEYS[3])
insert_pending(KEYS[1], ARGV[2], id, tonumber(redis.call('HGET', KEYS[3], 'priority')) or 0, false)
return 'requeued'

-- Cancels a job: a waiting one at once, a running one by flagging it and telling its worker.
-- KEYS[1] pending list   KEYS[2] delayed zset   KEYS[3] the job's hash   KEYS[4] cancelled zset   KEYS[5] history outbox
-- ARGV[1] job id   ARGV[2] now (ms)   ARGV[3] cancel channel   ARGV[4] error JSON
-- Returns 'missing', 'finished:<status>' when it had already finished, 'cancelled' when it was waiting, or
-- 'cancelling' when it is running (its worker aborts it and records 'cancelled').
local id = ARGV[1]
local status = redis.call('HGET', KEYS[3], 'status')
if not status then return 'missing' end
if is_final(status) then return 'finished:' .. status end
if redis.call('LREM', KEYS[1], 1, id) == 1 or redis.call('ZREM', KEYS[2], id) == 1 then
  finalize(KEYS[3], id, 'cancelled', 'error', ARGV[4], tonumber(ARGV[2]), KEYS[4], KEYS[5])
  return 'cancelled'
end
redis.call('HSET', KEYS[3], 'cancel_requested', '1')
redis.call('PUBLISH', ARGV[3], id)
return 'cancelling'

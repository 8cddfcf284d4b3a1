-- Housekeeping any worker may run at any time, as often as it likes (each step is idempotent):
-- 1. due retries move from delayed to pending;
-- 2. ids in processing that never got a lease (a worker died between BLMOVE and claim) get a grace lease;
-- 3. jobs whose lease expired (their worker died or hung) go back to pending ahead of their priority, or go
--    to the dead-letter list with worker_crashed when that was their last attempt (a job that keeps killing
--    its worker is quarantined, not retried for ever), or end cancelled when a cancel was asked for;
-- 4. finished jobs older than the retention period leave the count sets (their hashes expire once in history),
--    and the oldest entries of the recent-jobs and dead-letter lists leave them once their record has expired.
-- KEYS[1] pending   KEYS[2] processing   KEYS[3] delayed   KEYS[4] leases   KEYS[5] dead list
-- KEYS[6] cancelled zset   KEYS[7] completed zset   KEYS[8] recent list   KEYS[9] history outbox   KEYS[10] failed zset
-- ARGV[1] now (ms)   ARGV[2] job key prefix   ARGV[3] grace for unleased ids (ms)   ARGV[4] retention (ms)
-- ARGV[5] batch size   ARGV[6] error JSON for worker_crashed   ARGV[7] error JSON for a cancel
-- Returns {promoted, recovered, quarantined, cancelled}
local now, prefix, grace, retention, batch = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local promoted, recovered, crashed, cancelled = 0, 0, 0, 0

for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, batch)) do
  redis.call('ZREM', KEYS[3], id)
  local job = prefix .. id
  if redis.call('EXISTS', job) == 1 then
    redis.call('HDEL', job, 'run_at')
    insert_pending(KEYS[1], prefix, id, tonumber(redis.call('HGET', job, 'priority')) or 0, false)
    promoted = promoted + 1
  end
end

for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, 999)) do
  if not redis.call('ZSCORE', KEYS[4], id) then
    redis.call('ZADD', KEYS[4], now + grace, id)
  end
end

for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, batch)) do
  redis.call('ZREM', KEYS[4], id)
  local job = prefix .. id
  if redis.call('LREM', KEYS[2], 1, id) == 1 and redis.call('EXISTS', job) == 1 then
    local attempts = tonumber(redis.call('HGET', job, 'attempts')) or 0
    local max_attempts = tonumber(redis.call('HGET', job, 'max_attempts')) or 1
    if redis.call('HGET', job, 'cancel_requested') == '1' then
      finalize(job, id, 'cancelled', 'error', ARGV[7], now, KEYS[6], KEYS[9])
      cancelled = cancelled + 1
    elseif attempts >= max_attempts then
      redis.call('HSET', job, 'status', 'dead', 'error', ARGV[6], 'finished_at', now)
      redis.call('HDEL', job, 'lease_token', 'run_at')
      redis.call('LPUSH', KEYS[5], id)
      redis.call('LPUSH', KEYS[9], id)
      crashed = crashed + 1
    else
      redis.call('HSET', job, 'status', 'pending')
      redis.call('HDEL', job, 'lease_token')
      insert_pending(KEYS[1], prefix, id, tonumber(redis.call('HGET', job, 'priority')) or 0, true)
      recovered = recovered + 1
    end
  end
end

local horizon = now - retention
for _, set in ipairs({ KEYS[6], KEYS[7], KEYS[10] }) do redis.call('ZREMRANGEBYSCORE', set, '-inf', horizon) end
-- Oldest at the tail: trimming stops at the first record still there (a later one that expired waits for it;
-- GET /jobs skips ids whose record is gone).
for _, list in ipairs({ KEYS[5], KEYS[8] }) do
  for _ = 1, batch * 10 do
    local oldest = redis.call('LINDEX', list, -1)
    if not oldest or redis.call('EXISTS', prefix .. oldest) == 1 then break end
    redis.call('RPOP', list)
  end
end

return {promoted, recovered, crashed, cancelled}

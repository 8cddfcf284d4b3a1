-- Ends a lease holder's attempt in one atomic step: the id leaves processing and the record says why.
-- KEYS[1] processing list   KEYS[2] leases zset   KEYS[3] the job's hash   KEYS[4] pending list
-- KEYS[5] delayed zset   KEYS[6] the outcome's finished zset (completed/failed/cancelled)   KEYS[7] history outbox
-- KEYS[8] stats hash (counts fenced_rejections)
-- ARGV[1] job id   ARGV[2] lease token   ARGV[3] now (ms)
-- ARGV[4] outcome: completed | failed | cancelled | retry (run again at ARGV[6]) | release (back to pending,
--         the attempt not counted: graceful shutdown)
-- ARGV[5] result JSON (completed) or error JSON (the others)   ARGV[6] retry due time (ms)
-- ARGV[7] job key prefix   ARGV[8] progress JSON or ''
-- ARGV[9] '1' when a retry must not use up the job's attempts (our own outage, not the job's fault)
-- Returns the outcome applied, or 'fenced' when the token no longer holds the lease (nothing changes).
local id, token, now, outcome = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if redis.call('HGET', KEYS[3], 'lease_token') ~= token or redis.call('LREM', KEYS[1], 1, id) == 0 then
  redis.call('HINCRBY', KEYS[8], 'fenced_rejections', 1)
  return 'fenced'
end
redis.call('ZREM', KEYS[2], id)

if outcome == 'completed' or outcome == 'failed' or outcome == 'cancelled' then
  finalize(KEYS[3], id, outcome, outcome == 'completed' and 'result' or 'error', ARGV[5], now, KEYS[6], KEYS[7], ARGV[8])
  return outcome
end

if ARGV[8] ~= '' then redis.call('HSET', KEYS[3], 'progress', ARGV[8]) end
local priority = tonumber(redis.call('HGET', KEYS[3], 'priority')) or 0

if outcome == 'retry' then
  redis.call('HSET', KEYS[3], 'status', 'pending', 'error', ARGV[5])
  redis.call('HDEL', KEYS[3], 'lease_token')
  if ARGV[9] == '1' then redis.call('HINCRBY', KEYS[3], 'max_attempts', 1) end
  local due = tonumber(ARGV[6])
  if due <= now then
    insert_pending(KEYS[4], ARGV[7], id, priority, false)
  else
    redis.call('HSET', KEYS[3], 'run_at', due)
    redis.call('ZADD', KEYS[5], due, id)
  end
  return 'retry'
end

if outcome == 'release' then
  redis.call('HSET', KEYS[3], 'status', 'pending')
  redis.call('HDEL', KEYS[3], 'lease_token')
  redis.call('HINCRBY', KEYS[3], 'attempts', -1)
  insert_pending(KEYS[4], ARGV[7], id, priority, true)
  return 'release'
end

return redis.error_reply('unknown outcome ' .. outcome)

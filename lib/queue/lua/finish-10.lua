-- Ends one or more lease holders' attempts, each in the same atomic step: the id leaves processing and the
-- record says why. Several at once when a worker's jobs end together (one round trip for all of them); each
-- job is fenced on its own token, so one stale job never stops the others.
-- KEYS[1] processing list   KEYS[2] leases zset   KEYS[3] pending list   KEYS[4] delayed zset
-- KEYS[5] completed zset   KEYS[6] failed zset   KEYS[7] cancelled zset   KEYS[8] history outbox
-- KEYS[9] stats hash (counts fenced_rejections, and the job counters of GET /metrics)   KEYS[10] dead list
-- ARGV[1] now (ms)   ARGV[2] job key prefix
-- then 7 items per job: id, lease token, outcome, payload, retry due time (ms), progress JSON or '', keep attempt
--   outcome: completed | failed | cancelled | dead (failed, and quarantined in the dead-letter list: a delivery that
--   could not be made) | retry (run again at the due time) | release (back to pending, the attempt not counted:
--   graceful shutdown); payload: the result JSON (completed) or the error JSON (the others);
--   keep attempt: '1' when a retry must not use up the job's attempts (our own outage, not the job's fault)
-- Job hashes are <prefix><id> (keys outside KEYS: standalone Redis only).
-- Returns, per job, the outcome applied, or 'fenced' when its token no longer holds the lease (nothing changes).
local now, prefix = tonumber(ARGV[1]), ARGV[2]
local finished_sets = { completed = KEYS[5], failed = KEYS[6], cancelled = KEYS[7] }

-- Counted here, in the step that ends the attempt, so the counters agree with the queue whatever process reads
-- them. JOB_DURATION_BUCKETS is defined above this file by lib/queue/scripts.ts; a bucket counts the attempts that
-- fell into it alone (the exposition adds them up).
local function count_attempt(job, outcome, payload)
  local started = tonumber(redis.call('HGET', job, 'started_at'))
  if started then
    local seconds = math.max(0, now - started) / 1000
    local bucket = '+Inf'
    for _, le in ipairs(JOB_DURATION_BUCKETS) do
      if seconds <= le then bucket = tostring(le) break end
    end
    redis.call('HINCRBY', KEYS[9], 'job_duration_le:' .. bucket, 1)
    redis.call('HINCRBYFLOAT', KEYS[9], 'job_duration_sum', seconds)
    redis.call('HINCRBY', KEYS[9], 'job_duration_count', 1)
  end
  if outcome == 'completed' then
    redis.call('HINCRBY', KEYS[9], 'jobs_completed', 1)
  elseif outcome == 'failed' or outcome == 'dead' then
    local ok, failure = pcall(cjson.decode, payload)
    local code = (ok and type(failure) == 'table' and type(failure.code) == 'string') and failure.code or 'unknown'
    redis.call('HINCRBY', KEYS[9], 'jobs_failed:' .. code, 1)
  end
end

local function finish(id, token, outcome, payload, due, progress, keep_attempt)
  local job = prefix .. id
  if redis.call('HGET', job, 'lease_token') ~= token or redis.call('LREM', KEYS[1], 1, id) == 0 then
    redis.call('HINCRBY', KEYS[9], 'fenced_rejections', 1)
    return 'fenced'
  end
  redis.call('ZREM', KEYS[2], id)
  if outcome ~= 'release' then count_attempt(job, outcome, payload) end

  local finished_set = finished_sets[outcome]
  if finished_set then
    finalize(job, id, outcome, outcome == 'completed' and 'result' or 'error', payload, now, finished_set, KEYS[8], progress, true)
    return outcome
  end

  if progress ~= '' then redis.call('HSET', job, 'progress', progress) end
  if outcome == 'dead' then
    redis.call('HSET', job, 'status', 'dead', 'error', payload, 'finished_at', now)
    redis.call('HDEL', job, 'lease_token', 'run_at')
    redis.call('LPUSH', KEYS[10], id)
    redis.call('LPUSH', KEYS[8], id)
    return 'dead'
  end
  local priority = tonumber(redis.call('HGET', job, 'priority')) or 0
  if outcome == 'retry' then
    redis.call('HSET', job, 'status', 'pending', 'error', payload)
    redis.call('HDEL', job, 'lease_token')
    if keep_attempt == '1' then redis.call('HINCRBY', job, 'max_attempts', 1) end
    if due <= now then
      insert_pending(KEYS[3], prefix, id, priority, false)
    else
      redis.call('HSET', job, 'run_at', due)
      redis.call('ZADD', KEYS[4], due, id)
    end
    return 'retry'
  end
  if outcome == 'release' then
    redis.call('HSET', job, 'status', 'pending')
    redis.call('HDEL', job, 'lease_token')
    redis.call('HINCRBY', job, 'attempts', -1)
    insert_pending(KEYS[3], prefix, id, priority, true)
    return 'release'
  end
  return redis.error_reply('unknown outcome ' .. outcome)
end

local applied = {}
for i = 3, #ARGV, 7 do
  local outcome = finish(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], tonumber(ARGV[i + 4]), ARGV[i + 5], ARGV[i + 6])
  if type(outcome) == 'table' then return outcome end
  table.insert(applied, outcome)
end
return applied

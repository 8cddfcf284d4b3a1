-- Helpers shared by the queue scripts (prepended to each by lib/queue/scripts.ts). insert_pending puts a job id
-- into the pending list:
-- The list is consumed from its tail (BLMOVE ... RIGHT LEFT) and kept ordered so that the tail holds the
-- highest priority, FIFO within a priority. The head therefore holds the lowest priority, which makes the
-- common case (a job no more urgent than the least urgent waiting one) a single LPUSH.
-- `ahead` puts the job before the others of its own priority: used for jobs that were already taken once
-- (put back at shutdown, recovered from a dead worker).
-- Reads each walked job's `priority` from its hash <job_prefix><id> (keys outside KEYS: standalone Redis only).

-- FINAL_STATUSES is defined above this file by lib/queue/scripts.ts, from lib/queue/job.ts.
local function is_final(status)
  return status ~= nil and FINAL_STATUSES[status] == true
end

local function priority_of(job_prefix, id)
  return tonumber(redis.call('HGET', job_prefix .. id, 'priority')) or 0
end

local function insert_pending(pending, job_prefix, id, priority, ahead)
  local function runs_after(other)
    if ahead then return other > priority end
    return other >= priority
  end
  -- Nothing runs after a priority-0 job that arrives new: the most common enqueue is one LPUSH.
  if priority <= 0 and not ahead then return redis.call('LPUSH', pending, id) end
  local head = redis.call('LINDEX', pending, 0)
  if (not head) or runs_after(priority_of(job_prefix, head)) then
    return redis.call('LPUSH', pending, id)
  end
  local len = redis.call('LLEN', pending)
  local chunk = 64
  local stop = -1
  while true do
    local start = stop - chunk + 1
    local ids = redis.call('LRANGE', pending, start, stop)
    for i = #ids, 1, -1 do
      if not runs_after(priority_of(job_prefix, ids[i])) then
        return redis.call('LINSERT', pending, 'AFTER', ids[i], id)
      end
    end
    if -start >= len then break end
    stop = start - 1
  end
  return redis.call('LPUSH', pending, id)
end

-- Marks a job finished (completed, failed or cancelled): it is counted in its outcome's set and queued in the
-- history outbox. Its record starts to expire only once that outbox entry is in PostgreSQL (history-ack), so a
-- long PostgreSQL outage delays the history but can never let a record expire before it was copied.
-- `progress` (JSON, or '' for none) is written in the same HSET. A job that was running (`was_running`) has no
-- run_at, and its lease token and, once completed, its last attempt's error are blanked in that HSET too ('' reads
-- as absent): a finish is the hottest path there is, and an HDEL more per job is a tenth of its cost.
local function finalize(job, id, status, field, value, now, done_set, history, progress, was_running)
  local fields = { 'status', status, field, value, 'finished_at', now }
  if progress and progress ~= '' then
    table.insert(fields, 'progress')
    table.insert(fields, progress)
  end
  if was_running then
    table.insert(fields, 'lease_token')
    table.insert(fields, '')
    -- A completed job's error was its last failed attempt's: the result now says what happened.
    if field == 'result' then
      table.insert(fields, 'error')
      table.insert(fields, '')
    end
    redis.call('HSET', job, unpack(fields))
  else
    redis.call('HSET', job, unpack(fields))
    redis.call('HDEL', job, 'lease_token', 'run_at')
  end
  redis.call('ZADD', done_set, now, id)
  redis.call('LPUSH', history, id)
end

-- The fields a claim writes, from the record as HGETALL gave it: one HSET instead of an HSET and an HINCRBY.
local function claim_fields(record, worker, token, now)
  local attempts = 0
  for i = 1, #record, 2 do
    if record[i] == 'attempts' then attempts = tonumber(record[i + 1]) or 0 end
  end
  return { 'status', 'running', 'worker', worker, 'lease_token', token, 'started_at', now, 'attempts', attempts + 1 }
end

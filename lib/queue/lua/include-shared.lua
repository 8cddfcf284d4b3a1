-- Helpers shared by the queue scripts (prepended to each by lib/queue/scripts.ts). insert_pending puts a job id
-- into the pending list:
-- The list is consumed from its tail (BLMOVE ... RIGHT LEFT) and kept ordered so that the tail holds the
-- highest priority, FIFO within a priority. The head therefore holds the lowest priority, which makes the
-- common case (a job no more urgent than the least urgent waiting one) a single LPUSH.
-- `ahead` puts the job before the others of its own priority: used for jobs that were already taken once
-- (put back at shutdown, recovered from a dead worker).
-- Reads the `priority` of the jobs it probes from their hashes <job_prefix><id> (keys outside KEYS: standalone
-- Redis only).

-- FINAL_STATUSES is defined above this file by lib/queue/scripts.ts, from lib/queue/job.ts.
local function is_final(status)
  return status ~= nil and FINAL_STATUSES[status] == true
end

local function priority_of(job_prefix, id)
  return tonumber(redis.call('HGET', job_prefix .. id, 'priority')) or 0
end

-- Up to this many ids are popped and pushed back to make room; past it one LINSERT does it.
local SHIFT_MOST = 256

local function push_all(command, list, ids)
  if #ids > 0 then redis.call(command, list, unpack(ids)) end
end

-- The cost is bounded whatever the list's length: the place is found by a binary search on the priorities (about
-- log2(n) LINDEX and HGET calls, LINDEX skipping whole list nodes), then the id goes in by moving the shorter side
-- out of the way when it holds at most SHIFT_MOST ids, else by one LINSERT before the id at that place.
local function insert_pending(pending, job_prefix, id, priority, ahead)
  -- Whether a waiting job of priority `other` runs before this one (so stays nearer the tail).
  local function runs_before(other)
    if ahead then return other > priority end
    return other >= priority
  end
  -- Nothing runs after a priority-0 job that arrives new: the most common enqueue is one LPUSH.
  if priority <= 0 and not ahead then return redis.call('LPUSH', pending, id) end
  local len = redis.call('LLEN', pending)
  -- The first index (from the head) of the jobs that run before this one; they fill the list from there to the tail.
  local lo, hi = 0, len
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if runs_before(priority_of(job_prefix, redis.call('LINDEX', pending, mid))) then hi = mid else lo = mid + 1 end
  end
  local before = len - lo
  if before == 0 then return redis.call('RPUSH', pending, id) end
  if lo == 0 then return redis.call('LPUSH', pending, id) end
  if before <= SHIFT_MOST then
    local moved = redis.call('RPOP', pending, before)
    local back = {}
    for i = #moved, 1, -1 do table.insert(back, moved[i]) end
    redis.call('RPUSH', pending, id)
    push_all('RPUSH', pending, back)
    return len + 1
  end
  if lo <= SHIFT_MOST then
    local moved = redis.call('LPOP', pending, lo)
    local back = {}
    for i = #moved, 1, -1 do table.insert(back, moved[i]) end
    redis.call('LPUSH', pending, id)
    push_all('LPUSH', pending, back)
    return len + 1
  end
  return redis.call('LINSERT', pending, 'BEFORE', redis.call('LINDEX', pending, lo), id)
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

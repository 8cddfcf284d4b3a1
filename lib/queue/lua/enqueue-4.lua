-- Creates one or more job records in one atomic step and puts each runnable one into the pending list at its
-- priority's place: a scrape-all parent and its children appear together or not at all. With an idempotency
-- key, a request already seen returns the job it created instead of creating another. Past the cap on waiting
-- jobs nothing is created.
-- KEYS[1] pending list   KEYS[2] recent jobs list (newest first)   KEYS[3] idempotency key (unused without ARGV[3])
-- KEYS[4] delayed zset (jobs waiting for a retry count as waiting)
-- ARGV[1] job key prefix   ARGV[2] created_at (ms)   ARGV[3] request fingerprint, or '' for none
-- ARGV[4] how long the idempotency key is remembered (ms)   ARGV[5] most jobs waiting at once (0: no cap)
-- then per job: id, priority, runnable (1: into pending; 0: record only, e.g. a parent), n, then n field/value items
-- Returns {'created', count}, {'existing', first job id} for the same request again, {'conflict', first job id}
-- for another request under the same key, or {'full', jobs waiting} when the jobs would pass the cap. Ids are
-- random UUIDs made by lib/queue/queue.ts, never a caller's, so they are not checked for a clash (an EXISTS per
-- job would be a fifth of the enqueue's cost).
local prefix, now, fingerprint, cap = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[5])
if fingerprint ~= '' then
  local seen = redis.call('GET', KEYS[3])
  if seen then
    local at = string.find(seen, ' ', 1, true)
    local seen_fingerprint, seen_id = string.sub(seen, 1, at - 1), string.sub(seen, at + 1)
    if seen_fingerprint == fingerprint then return { 'existing', seen_id } end
    return { 'conflict', seen_id }
  end
end
local jobs = {}
local runnable = 0
local i = 6
while i <= #ARGV do
  local n = tonumber(ARGV[i + 3])
  local job = { id = ARGV[i], priority = tonumber(ARGV[i + 1]), runnable = ARGV[i + 2] == '1', first = i + 4, last = i + 3 + n }
  if job.runnable then runnable = runnable + 1 end
  table.insert(jobs, job)
  i = i + 4 + n
end
if cap > 0 then
  local waiting = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[4])
  if waiting + runnable > cap then return { 'full', waiting } end
end
for _, job in ipairs(jobs) do
  redis.call('HSET', prefix .. job.id, unpack(ARGV, job.first, job.last))
  redis.call('LPUSH', KEYS[2], job.id)
  if job.runnable then insert_pending(KEYS[1], prefix, job.id, job.priority, false) end
end
if fingerprint ~= '' then redis.call('SET', KEYS[3], fingerprint .. ' ' .. jobs[1].id, 'PX', ARGV[4]) end
return { 'created', #jobs }

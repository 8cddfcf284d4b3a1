-- Creates one or more job records in one atomic step and puts each runnable one into the pending list at its
-- priority's place: a scrape-all parent and its children appear together or not at all.
-- KEYS[1] pending list   KEYS[2] recent jobs zset (created_at)
-- ARGV[1] job key prefix   ARGV[2] created_at (ms)
-- then per job: id, priority, runnable (1: into pending; 0: record only, e.g. a parent), n, then n field/value items
-- Returns the number of jobs created; 0 (and nothing written) when any of the ids already exists.
local prefix, now = ARGV[1], ARGV[2]
local jobs = {}
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i + 3])
  table.insert(jobs, { id = ARGV[i], priority = tonumber(ARGV[i + 1]), runnable = ARGV[i + 2] == '1', first = i + 4, last = i + 3 + n })
  i = i + 4 + n
end
for _, job in ipairs(jobs) do
  if redis.call('EXISTS', prefix .. job.id) == 1 then return 0 end
end
for _, job in ipairs(jobs) do
  redis.call('HSET', prefix .. job.id, unpack(ARGV, job.first, job.last))
  redis.call('ZADD', KEYS[2], now, job.id)
  if job.runnable then insert_pending(KEYS[1], prefix, job.id, job.priority, false) end
end
return #jobs

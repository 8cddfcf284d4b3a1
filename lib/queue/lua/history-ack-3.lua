-- Drops the oldest entries of the history outbox once they are in PostgreSQL, and starts the retention clock of
-- those records that are still finished (a record retried by hand since is running again and must not expire).
-- Entries PostgreSQL refused are kept in the rejected list (their record as JSON, with the refusal), newest
-- first and at most ARGV[5] of them, so one bad row never blocks the copy of the others.
-- Only while the caller still holds the flush lock: a flusher that stalled past its lock must not trim entries
-- another one read.
-- KEYS[1] flush lock   KEYS[2] history outbox   KEYS[3] rejected list
-- ARGV[1] lock token   ARGV[2] how many entries, from the tail, were handled   ARGV[3] retention (ms)
-- ARGV[4] job key prefix   ARGV[5] most entries the rejected list keeps   ARGV[6..] rejected entries (JSON)
-- Returns 1 when trimmed, 0 when the lock was lost.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local count = tonumber(ARGV[2])
if count > 0 then
  for _, id in ipairs(redis.call('LRANGE', KEYS[2], -count, -1)) do
    if is_final(redis.call('HGET', ARGV[4] .. id, 'status')) then
      redis.call('PEXPIRE', ARGV[4] .. id, ARGV[3])
    end
  end
end
for i = 6, #ARGV do redis.call('LPUSH', KEYS[3], ARGV[i]) end
if #ARGV >= 6 then redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1) end
redis.call('LTRIM', KEYS[2], 0, -1 - count)
redis.call('DEL', KEYS[1])
return 1

-- Drops the oldest entries of the history outbox once they are in PostgreSQL, and starts the retention clock of
-- those records that are still finished (a record retried by hand since is running again and must not expire).
-- Only while the caller still holds the flush lock: a flusher that stalled past its lock must not trim entries
-- another one read.
-- KEYS[1] flush lock   KEYS[2] history outbox
-- ARGV[1] lock token   ARGV[2] how many entries, from the tail, were written   ARGV[3] retention (ms)
-- ARGV[4] job key prefix
-- Returns 1 when trimmed, 0 when the lock was lost.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local count = tonumber(ARGV[2])
if count > 0 then
  for _, id in ipairs(redis.call('LRANGE', KEYS[2], -count, -1)) do
    local status = redis.call('HGET', ARGV[4] .. id, 'status')
    if status == 'completed' or status == 'failed' or status == 'cancelled' or status == 'dead' then
      redis.call('PEXPIRE', ARGV[4] .. id, ARGV[3])
    end
  end
end
redis.call('LTRIM', KEYS[2], 0, -1 - count)
redis.call('DEL', KEYS[1])
return 1

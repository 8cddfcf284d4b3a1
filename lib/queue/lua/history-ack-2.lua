-- Drops the oldest entries of the history outbox once they are in PostgreSQL, only while the caller still
-- holds the flush lock (a flusher that stalled past its lock must not trim entries another one read).
-- KEYS[1] flush lock   KEYS[2] history outbox
-- ARGV[1] lock token   ARGV[2] how many entries, from the tail, were written
-- Returns 1 when trimmed, 0 when the lock was lost.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('LTRIM', KEYS[2], 0, -1 - tonumber(ARGV[2]))
redis.call('DEL', KEYS[1])
return 1

-- Turns the job index of an older release (a ZSET of ids scored by creation time) into the LIST it is now
-- (newest first), in one atomic step; a no-op when it is already a LIST or does not exist. Run at start-up by
-- every process that uses the queue, before anything writes to the index.
-- KEYS[1] the recent-jobs index
-- Returns the number of ids moved.
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then return 0 end
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
for i = 1, #ids, 1000 do
  redis.call('LPUSH', KEYS[1], unpack(ids, i, math.min(i + 999, #ids)))
end
return #ids

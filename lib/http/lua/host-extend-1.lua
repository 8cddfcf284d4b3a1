-- Keeps an admitted request's in-flight slot while the request is still running (Redis clock), and the set's own
-- expiry with it: every slot in the set expires by now + ARGV[2], so the key may live exactly that long.
-- KEYS[1] in-flight zset   ARGV[1] token   ARGV[2] expiry from now (ms)
-- Returns 1 when extended, 0 when the slot had already expired and been dropped.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local extended = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
if extended == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return extended

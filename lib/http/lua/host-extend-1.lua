-- Keeps an admitted request's in-flight slot while the request is still running (Redis clock).
-- KEYS[1] in-flight zset   ARGV[1] token   ARGV[2] expiry from now (ms)
-- Returns 1 when extended, 0 when the slot had already expired and been dropped.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])

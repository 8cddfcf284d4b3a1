-- Pauses every worker's requests to a host until now + ARGV[1] ms (Retry-After, an exhausted quota, Stack
-- Exchange's backoff); never shortens a longer pause already set.
-- KEYS[1] hold-until key (ms)   ARGV[1] pause (ms)
-- Returns the hold-until time in force (ms, Redis clock).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local wanted = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= wanted then return current end
redis.call('SET', KEYS[1], wanted, 'PX', tonumber(ARGV[1]))
return wanted

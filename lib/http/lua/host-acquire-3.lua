-- Admits one request to an upstream host for the whole fleet, or says how long to wait. A sliding log of
-- admission times enforces "at most N per window"; a set of in-flight tokens (each expiring, in case its
-- worker dies mid-request) enforces the concurrency cap; a hold key pauses the host on the upstream's word.
-- Time comes from Redis (TIME), so workers with skewed clocks still share one window.
-- KEYS[1] admissions zset   KEYS[2] in-flight zset   KEYS[3] hold-until key (ms)
-- ARGV[1] token   ARGV[2] requests per window   ARGV[3] window (ms)   ARGV[4] concurrency   ARGV[5] in-flight expiry (ms)
-- Returns 0 when admitted (the token is recorded in both sets), else the milliseconds to wait before asking again.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[3])

local hold = tonumber(redis.call('GET', KEYS[3]) or '0')
if hold > now then return hold - now end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end

redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], window)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 0

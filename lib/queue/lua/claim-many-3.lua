-- Takes up to ARGV[4] waiting jobs at once, without blocking, and leases each: for a worker with several free
-- slots and work waiting, one round trip instead of a BLMOVE and a claim per job.
-- KEYS[1] pending list   KEYS[2] processing list   KEYS[3] leases zset
-- ARGV[1] worker id   ARGV[2] now (ms)   ARGV[3] lease length (ms)   ARGV[4] how many at most   ARGV[5] job key prefix
-- ARGV[6..] one lease token per job that may be taken
-- Returns a flat list: for each job taken, its id, its token, the number n of record items, then the n items
-- (the record as HGETALL gave it before the claim, followed by the fields the claim wrote, which a reader takes
-- as overriding the earlier ones). An id whose record is gone is dropped from processing and skipped.
local worker, now, lease, most, prefix = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local reply = {}
for i = 1, most do
  local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not id then break end
  local job = prefix .. id
  local record = redis.call('HGETALL', job)
  if #record == 0 then
    redis.call('LREM', KEYS[2], 1, id)
  else
    local token = ARGV[5 + i]
    local claimed = claim_fields(record, worker, token, now)
    redis.call('HSET', job, unpack(claimed))
    redis.call('ZADD', KEYS[3], tonumber(now) + lease, id)
    table.insert(reply, id)
    table.insert(reply, token)
    table.insert(reply, #record + #claimed)
    for _, item in ipairs(record) do table.insert(reply, item) end
    for _, item in ipairs(claimed) do table.insert(reply, item) end
  end
end
return reply

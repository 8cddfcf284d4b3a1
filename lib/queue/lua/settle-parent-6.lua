-- Records a scrape-all parent's final state once every child has finished, or drops it from the unsettled set
-- while a child still waits or runs (that child adds it again when it is copied to history). The caller read the
-- children and summarised them; the statuses it read come along, and nothing is written when one has changed
-- since (the next flush reads them again), so the summary written is always that of the children as they are.
-- KEYS[1] the parent's hash   KEYS[2] unsettled parents set   KEYS[3] history outbox
-- KEYS[4] completed zset   KEYS[5] failed zset   KEYS[6] cancelled zset
-- ARGV[1] parent id   ARGV[2] now (ms)   ARGV[3] job key prefix   ARGV[4] final status or '' (not finished)
-- ARGV[5] result JSON   ARGV[6] error JSON or ''   ARGV[7..] child id, status read, child id, status read, ...
--   (a status read from PostgreSQL for a child whose record has left Redis matches a missing record)
-- Returns 'settled', 'already' (final before), 'waiting' (a child is not finished; dropped from the set),
-- 'changed' (a child finished since it was read; left in the set) or 'missing' (no parent record; dropped).
local id, now, prefix, status = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local current = redis.call('HGET', KEYS[1], 'status')
if not current then
  redis.call('SREM', KEYS[2], id)
  return 'missing'
end
if is_final(current) then
  redis.call('SREM', KEYS[2], id)
  return 'already'
end
local changed = false
for i = 7, #ARGV, 2 do
  local now_status = redis.call('HGET', prefix .. ARGV[i], 'status')
  if now_status and not is_final(now_status) then
    redis.call('SREM', KEYS[2], id)
    return 'waiting'
  end
  if now_status and now_status ~= ARGV[i + 1] then changed = true end
end
if changed or status == '' then return 'changed' end
local sets = { completed = KEYS[4], failed = KEYS[5], cancelled = KEYS[6] }
local fields = { 'status', status, 'finished_at', now, 'result', ARGV[5] }
if ARGV[6] ~= '' then
  table.insert(fields, 'error')
  table.insert(fields, ARGV[6])
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', sets[status], now, id)
redis.call('LPUSH', KEYS[3], id)
redis.call('SREM', KEYS[2], id)
return 'settled'

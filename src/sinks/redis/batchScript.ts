/**
 * The one Lua call per batch. ARGV layout (flat, built by `RedisBatchBuilder`):
 *   streamMaxLen, origin,
 *   latestGroups, then per group: valuesKey, timesKey, fieldCount, then (field, value, timeMs) × fieldCount,
 *   streamEntries, then per entry: streamKey, position, pairCount, then (name, value) × pairCount.
 *
 * Latest values are newer-wins per field: a value older than what Redis holds (a re-sent batch after a crash,
 * out-of-order devices) does not overwrite it.
 * Stream entries are exactly-once per spool: `<streamKey>:applied` holds, per spool origin, the highest spool
 * position already appended; an entry at or below it was appended before (the batch is being sent again after a
 * crash) and is skipped. Positions of one origin only grow, and one batch per sink is in flight, in order;
 * all lines of one entry share its position and the script is atomic, so an entry is applied whole or not at all.
 * Returns { latest fields written, stream entries appended, stream entries skipped as duplicates }.
 * Keys travel in ARGV, not KEYS: fine on a single server.
 */
export const BATCH_SCRIPT = `
local maxlen = ARGV[1]
local origin = ARGV[2]
local groups = tonumber(ARGV[3])
local i = 4
local written = 0
for g = 1, groups do
  local vk, tk, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  for f = 1, n do
    local field, value, ts = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    i = i + 3
    local held = redis.call('HGET', tk, field)
    if (not held) or tonumber(held) <= tonumber(ts) then
      redis.call('HSET', vk, field, value)
      redis.call('HSET', tk, field, ts)
      written = written + 1
    end
  end
end
local entries = tonumber(ARGV[i])
i = i + 1
local before, highest = {}, {}
local appended, skipped = 0, 0
for e = 1, entries do
  local sk, pos, n = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  i = i + 3
  if before[sk] == nil then
    before[sk] = tonumber(redis.call('HGET', sk .. ':applied', origin) or '-1')
    highest[sk] = before[sk]
  end
  -- Compared with what Redis held before this batch: the lines of one entry share its position.
  if pos > before[sk] then
    local args = { 'XADD', sk, 'MAXLEN', '~', maxlen, '*' }
    for p = 1, n * 2 do
      args[6 + p] = ARGV[i + p - 1]
    end
    redis.call(unpack(args))
    if pos > highest[sk] then highest[sk] = pos end
    appended = appended + 1
  else
    skipped = skipped + 1
  end
  i = i + n * 2
end
for sk, pos in pairs(highest) do
  if pos > before[sk] then
    redis.call('HSET', sk .. ':applied', origin, string.format('%.0f', pos))
  end
end
return { written, appended, skipped }
`;

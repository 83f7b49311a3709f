/**
 * The one Lua call per batch. ARGV (built by `RedisBatchBuilder`):
 *   1 streamMaxLen
 *   2 origin (the spool's identity)
 *   3 JSON [[valuesKey, timesKey, [field, value, timeMs, field, value, timeMs, …]], …]   latest values
 *   4 JSON [[streamKey, position, [name, value, name, value, …]], …]                       stream entries
 * Two JSON arguments instead of a dozen per point: ioredis then writes four arguments per batch (the two JSON
 * ones as the Buffers the builder wrote), and Redis's C cjson decodes them far faster than it parses a quarter of
 * a million bulk strings.
 *
 * Latest values are newer-wins per field: a value older than what Redis holds (a re-sent batch after a crash,
 * out-of-order devices) does not overwrite it.
 * Stream entries are exactly-once per spool: `<streamKey>:applied` holds, per spool origin, the highest spool
 * position already appended; an entry at or below the value held before this batch was appended before (the
 * batch is being sent again after a crash) and is skipped. Positions of one origin only grow and one batch per
 * sink is in flight, in order; the lines of one entry share its position and the script is atomic, so an entry is
 * applied whole or not at all.
 * Returns { latest fields written, stream entries appended, stream entries skipped as duplicates }.
 * Keys travel in ARGV, not KEYS: fine on a single server.
 */
export const BATCH_SCRIPT = `
local maxlen, origin = ARGV[1], ARGV[2]
local latest = cjson.decode(ARGV[3])
local streams = cjson.decode(ARGV[4])
local written = 0
for _, g in ipairs(latest) do
  local vk, tk, f = g[1], g[2], g[3]
  local values, times = {}, {}
  for j = 1, #f, 3 do
    local held = redis.call('HGET', tk, f[j])
    if (not held) or tonumber(held) <= tonumber(f[j + 2]) then
      values[#values + 1] = f[j]
      values[#values + 1] = f[j + 1]
      times[#times + 1] = f[j]
      times[#times + 1] = f[j + 2]
      written = written + 1
    end
  end
  if #values > 0 then
    redis.call('HSET', vk, unpack(values))
    redis.call('HSET', tk, unpack(times))
  end
end
local before, highest = {}, {}
local appended, skipped = 0, 0
for _, e in ipairs(streams) do
  local sk, pos = e[1], e[2]
  if before[sk] == nil then
    before[sk] = tonumber(redis.call('HGET', sk .. ':applied', origin) or '-1')
    highest[sk] = before[sk]
  end
  if pos > before[sk] then
    redis.call('XADD', sk, 'MAXLEN', '~', maxlen, '*', unpack(e[3]))
    if pos > highest[sk] then highest[sk] = pos end
    appended = appended + 1
  else
    skipped = skipped + 1
  end
end
for sk, pos in pairs(highest) do
  if pos > before[sk] then
    redis.call('HSET', sk .. ':applied', origin, string.format('%.0f', pos))
  end
end
return { written, appended, skipped }
`;

#!lua name=sketchboard_peers_v{version}
-- What crosses between Sketchboard nodes in Redis (src/server/peers/):
-- each person's number in a room, the same on every node.

-- keys: people (client -> person number), the room's meta. args: client.
-- The room's number for a client's person: made the first time (from meta's
-- `people`, counting up) and kept.
local function person(keys, args)
  local number = redis.call('HGET', keys[1], args[1])
  if number then
    return tonumber(number)
  end
  number = redis.call('HINCRBY', keys[2], 'people', 1) - 1
  redis.call('HSET', keys[1], args[1], number)
  return number
end

redis.register_function('sb_person_v{version}', person)

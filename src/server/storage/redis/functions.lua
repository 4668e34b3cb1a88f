#!lua name=sketchboard_v{version}
-- Sketchboard's rooms in Redis (src/server/storage/redis/). Each
-- room has a stream of its changes whose ids are their seqs (`<seq>-0`), a
-- meta hash (`head`, `epoch`, `snap_seq`), a hash of each client's last
-- accepted op, its latest snapshot and its keyframes. Functions run
-- atomically, and with `appendfsync always` Redis replies only once the
-- append is on disk: a reply is a durable record.

-- Announces `said` on a room's `channel` with `command`: SPUBLISH (sharded
-- Pub/Sub, on a Redis Cluster; the channel carries the room's hash tag, so it
-- is in the slot of the room's keys) or PUBLISH (one Redis).
local function announce(command, channel, said)
  if command ~= 'SPUBLISH' then
    command = 'PUBLISH'
  end
  redis.call(command, channel, said)
end

-- Whether the log's entry at `seq` was sent by `client` as `op`.
local function holds(log, seq, client, op)
  local entry = redis.call('XRANGE', log, seq .. '-0', seq .. '-0')[1]
  if not entry then
    return false
  end
  local fields, sent_by, sent_as = entry[2], nil, nil
  for i = 1, #fields, 2 do
    if fields[i] == 'client' then
      sent_by = fields[i + 1]
    elseif fields[i] == 'op' then
      sent_as = fields[i + 1]
    end
  end
  return sent_by == client and sent_as == op
end

-- The room's owner (keys: its owner hash) as a reply: {node, address,
-- epoch}, '' and 0 where there never was one.
local function owner_of(owner)
  local o = redis.call('HMGET', owner, 'node', 'address', 'epoch')
  return o[1] or '', o[2] or '', tonumber(o[3] or '0')
end

-- keys: log, meta, ops, owner. args: expected head, epoch (kept from the room's
-- first change on), time (ms), wake-up command and channel (`announce`), the
-- client and op of the change the caller holds at the expected head ('' and
-- '' when it does not know it), the caller's node and lease epoch ('' and ''
-- for a caller outside the leases: the copy tool), then client, op, change
-- and author's person number ('' when unknown) for each record. Refuses a
-- caller that is not the room's owner under that epoch ({'fenced', node,
-- address}: another node claimed the room since; whether the caller's lease
-- has run out does not matter, only whether anyone took it), a log that no longer
-- holds the caller's change where it was ({'rewound', head}: a failover to a
-- replica that lacked it), a record whose op is at or below its client's mark
-- ({'stale', index, mark}), or a head that moved ({'conflict', head}: the
-- caller reads what it missed, re-validates and tries again); otherwise
-- appends every record (with the caller's node and lease epoch, so the log
-- shows which owner wrote each change), moves the marks and the head, wakes
-- the room's readers and answers {'ok', head, epoch, archived mark}.
local function append(keys, args)
  local log, meta, ops = keys[1], keys[2], keys[3]
  if args[8] ~= '' then
    local node, address, epoch = owner_of(keys[4])
    if node ~= args[8] or epoch ~= tonumber(args[9]) then
      return {'fenced', node, address}
    end
  end
  local head = tonumber(redis.call('HGET', meta, 'head') or '0')
  local expected = tonumber(args[1])
  if args[6] ~= '' and expected > 0 and not holds(log, expected, args[6], args[7]) then
    return {'rewound', head}
  end
  for i = 10, #args, 4 do
    local mark = tonumber(redis.call('HGET', ops, args[i]) or '0')
    if tonumber(args[i + 1]) <= mark then
      return {'stale', math.floor((i - 10) / 4), mark}
    end
  end
  if head ~= expected then
    return {'conflict', head}
  end
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    epoch = args[2]
    redis.call('HSET', meta, 'epoch', epoch)
  end
  local appender = {}
  if args[8] ~= '' then
    appender = {'node', args[8], 'epoch', args[9]}
  end
  for i = 10, #args, 4 do
    head = head + 1
    redis.call('XADD', log, head .. '-0', 'client', args[i], 'op', args[i + 1], 'at', args[3], 'change', args[i + 2],
      'by', args[i + 3], unpack(appender))
    redis.call('HSET', ops, args[i], args[i + 1])
  end
  redis.call('HSET', meta, 'head', head)
  announce(args[4], args[5], head)
  return {'ok', head, epoch, tonumber(redis.call('HGET', meta, 'archived') or '0')}
end

-- keys: meta, log, keyframes, owner. args: the caller's node and lease
-- epoch (as `append`), the seq up to which the room's log is archived
-- (docs/operations.md, "History in PostgreSQL"), then the seqs of the
-- keyframes archived with it. Notes the mark, trims the log behind it and
-- drops those keyframes but the latest snapshot's (loading reads it here).
-- Refuses ({'fenced'}) a caller that is not the owner: trimming stays the
-- owner's, who archived first. Answers {'ok', the mark}.
local function archived(keys, args)
  local node, _, epoch = owner_of(keys[4])
  if args[1] ~= '' and (node ~= args[1] or epoch ~= tonumber(args[2])) then
    return {'fenced', node}
  end
  local mark = tonumber(redis.call('HGET', keys[1], 'archived') or '0')
  local upto = tonumber(args[3])
  local head = tonumber(redis.call('HGET', keys[1], 'head') or '0')
  if upto > mark and upto < head then
    mark = upto
    redis.call('HSET', keys[1], 'archived', mark)
    redis.call('XTRIM', keys[2], 'MINID', '~', (mark + 1) .. '-0')
  end
  local kept = redis.call('HGET', keys[1], 'snap_seq')
  for i = 4, #args do
    if args[i] ~= kept and tonumber(args[i]) <= mark then
      redis.call('HDEL', keys[3], args[i])
    end
  end
  return {'ok', mark}
end

-- keys: owner (a hash: node, address, epoch; kept for good, so epochs only
-- grow), lease (a key that lives while the owner's lease does). args: node,
-- its address, lease (ms), and the epoch the node holds ('' to claim anew).
-- A renewal (an epoch) keeps the lease if the node is still the owner under
-- that epoch, even if its lease ran out meanwhile (nobody took the room, so
-- nobody else appended); a claim takes the room if no lease lives or this
-- node holds it (a new epoch, which fences this node's older holder too).
-- Answers {'mine', epoch} or {'theirs', node, address, epoch, 1 if their
-- lease lives}.
local function claim(keys, args)
  local node, address, epoch = owner_of(keys[1])
  local live = redis.call('EXISTS', keys[2]) == 1
  if args[4] ~= '' then
    if node == args[1] and epoch == tonumber(args[4]) then
      redis.call('SET', keys[2], epoch, 'PX', args[3])
      return {'mine', epoch}
    end
  elseif not live or node == args[1] then
    epoch = redis.call('HINCRBY', keys[1], 'epoch', 1)
    redis.call('HSET', keys[1], 'node', args[1], 'address', args[2])
    redis.call('SET', keys[2], epoch, 'PX', args[3])
    return {'mine', epoch}
  end
  return {'theirs', node, address, epoch, live and 1 or 0}
end

-- keys: owner, lease. args: node, epoch. Ends the node's lease, if it still
-- holds it, so another node may claim the room at once.
local function release(keys, args)
  local node, _, epoch = owner_of(keys[1])
  if node == args[1] and epoch == tonumber(args[2]) then
    redis.call('DEL', keys[2])
    return 1
  end
  return 0
end

-- keys: owner, lease. Answers {node, address, epoch, 1 if the lease lives}.
local function owner(keys)
  local node, address, epoch = owner_of(keys[1])
  return {node, address, epoch, redis.call('EXISTS', keys[2])}
end

-- keys: meta, snapshot, keyframes. args: seq, board. Keeps the snapshot
-- (and a keyframe for history) unless a later one is already kept.
local function snapshot(keys, args)
  local seq = tonumber(args[1])
  if seq <= tonumber(redis.call('HGET', keys[1], 'snap_seq') or '0') then
    return 0
  end
  redis.call('SET', keys[2], args[2])
  redis.call('HSET', keys[3], args[1], args[2])
  redis.call('HSET', keys[1], 'snap_seq', seq)
  return 1
end

-- keys: access. args: private ('1' turns it on for good), the view-only
-- token ('' for none), the room's wake-up command and channel (`announce`). Answers the token it
-- replaces ('' for none); when one stops opening the room, every node is told
-- ('revoked'), to close the viewers it serves. It touches the room's keys
-- only (one slot under Redis Cluster): the token keys, found by token and so
-- in slots of their own, are the caller's, and a token key opens the room
-- only while the room's access names that token.
local function set_access(keys, args)
  local old = redis.call('HGET', keys[1], 'view_token') or ''
  if old ~= '' and old ~= args[2] then
    announce(args[3], args[4], 'revoked')
  end
  if args[2] == '' then
    redis.call('HDEL', keys[1], 'view_token')
  else
    redis.call('HSET', keys[1], 'view_token', args[2])
  end
  if args[1] == '1' then
    redis.call('HSET', keys[1], 'private', 1)
  else
    redis.call('HSETNX', keys[1], 'private', 0)
  end
  return old
end

-- keys: meta. args: time (ms), and 'nx' to set the time only where there is
-- none. Notes when a stored room was opened (a room not stored, with no
-- epoch, is left alone: visits store nothing) and answers its opening time
-- ('' when not stored), which the caller puts in the index of rooms by
-- opening time (that index spans rooms: another slot).
local function opened(keys, args)
  if redis.call('HEXISTS', keys[1], 'epoch') == 0 then
    return ''
  end
  if args[2] == 'nx' then
    redis.call('HSETNX', keys[1], 'opened', args[1])
  else
    redis.call('HSET', keys[1], 'opened', args[1])
  end
  return redis.call('HGET', keys[1], 'opened')
end

-- keys: meta, log, ops, snapshot, keyframes, access, people, owner, lease. args: cutoff
-- (ms). Deletes the room with everything it holds unless it was opened since
-- the cutoff, and answers {1 if it went, its opening time if it stays ('' if
-- it has none), its view-only token if it went ('' if none)}: the caller
-- then puts the index of rooms by opening time right and, for a room gone,
-- drops its token key and its lobby lines (those span rooms: other slots).
local function expire(keys, args)
  local opened = redis.call('HGET', keys[1], 'opened')
  if not opened then
    return {0, '', ''}
  end
  if tonumber(opened) >= tonumber(args[1]) then
    return {0, opened, ''}
  end
  local token = redis.call('HGET', keys[6], 'view_token') or ''
  redis.call('DEL', keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7], keys[8], keys[9])
  return {1, '', token}
end

redis.register_function('sb_append_v{version}', append)
redis.register_function('sb_archived_v{version}', archived)
redis.register_function('sb_claim_v{version}', claim)
redis.register_function('sb_release_v{version}', release)
redis.register_function{function_name = 'sb_owner_v{version}', callback = owner, flags = {'no-writes'}}
redis.register_function('sb_expire_v{version}', expire)
redis.register_function('sb_opened_v{version}', opened)
redis.register_function('sb_set_access_v{version}', set_access)
redis.register_function('sb_snapshot_v{version}', snapshot)

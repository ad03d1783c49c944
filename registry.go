package realtime

import (
	"math/bits"
	"slices"
	"sync"
)

// roomRegistry maps room names to their members. It is the only structure
// every broadcast reads and every join, leave and connect writes, so it is
// split into shards by room name, each with its own lock: a connect (which
// joins the client's user room) or a subscription stalls only the
// broadcasts to rooms of the same shard, and only for an insertion.
// Broadcasts hold read locks while they queue bytes on sessions, which
// never blocks, so no lock is ever held across network I/O. Nothing outside
// this file touches a shard's lock or maps.
type roomRegistry struct {
	shards [registryShards]registryShard
}

// registryShards is a power of two, so a set of shards fits a uint64.
const registryShards = 64

type registryShard struct {
	mu    sync.RWMutex
	rooms map[string]*room
	_     [32]byte // a cache line each: shards are locked from every core
}

// shardOf returns the shard of a room name: FNV-1a.
func shardOf(name string) int {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return int(h & (registryShards - 1))
}

type room struct {
	members []*Client       // iterated by broadcasts
	index   map[*Client]int // positions in members; built only for rooms larger than smallRoom
}

// smallRoom is the size up to which a room finds members by scanning: most
// rooms are a user's, with one or two members, and a map for each would
// cost more memory than the scan costs time.
const smallRoom = 8

func (rm *room) indexOf(c *Client) (int, bool) {
	if rm.index != nil {
		i, in := rm.index[c]
		return i, in
	}
	for i, m := range rm.members {
		if m == c {
			return i, true
		}
	}
	return 0, false
}

func (rm *room) add(c *Client) {
	if _, in := rm.indexOf(c); in {
		return
	}
	rm.members = append(rm.members, c)
	switch {
	case rm.index != nil:
		rm.index[c] = len(rm.members) - 1
	case len(rm.members) > smallRoom:
		rm.index = make(map[*Client]int, len(rm.members))
		for i, m := range rm.members {
			rm.index[m] = i
		}
	}
}

func (rm *room) remove(c *Client) {
	i, in := rm.indexOf(c)
	if !in {
		return
	}
	last := len(rm.members) - 1
	if i != last {
		moved := rm.members[last]
		rm.members[i] = moved
		if rm.index != nil {
			rm.index[moved] = i
		}
	}
	rm.members[last] = nil
	rm.members = rm.members[:last]
	if rm.index != nil {
		delete(rm.index, c)
		if len(rm.members) <= smallRoom/2 {
			rm.index = nil
		}
	}
}

// join adds c to rooms, one shard lock at a time.
func (r *roomRegistry) join(c *Client, names ...string) {
	for _, name := range names {
		sh := &r.shards[shardOf(name)]
		sh.mu.Lock()
		if sh.rooms == nil {
			sh.rooms = make(map[string]*room)
		}
		rm := sh.rooms[name]
		if rm == nil {
			rm = &room{}
			sh.rooms[name] = rm
		}
		rm.add(c)
		sh.mu.Unlock()
	}
}

// leave removes c from rooms; a room left empty is forgotten.
func (r *roomRegistry) leave(c *Client, names ...string) {
	for _, name := range names {
		sh := &r.shards[shardOf(name)]
		sh.mu.Lock()
		if rm := sh.rooms[name]; rm != nil {
			rm.remove(c)
			if len(rm.members) == 0 {
				delete(sh.rooms, name)
			}
		}
		sh.mu.Unlock()
	}
}

// size returns the number of members of a room.
func (r *roomRegistry) size(name string) int {
	sh := &r.shards[shardOf(name)]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if rm := sh.rooms[name]; rm != nil {
		return len(rm.members)
	}
	return 0
}

// names returns the names of the rooms with members, sorted, except
// allRoom.
func (r *roomRegistry) names() []string {
	var names []string
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.RLock()
		for name := range sh.rooms {
			if name != allRoom {
				names = append(names, name)
			}
		}
		sh.mu.RUnlock()
	}
	slices.Sort(names)
	return names
}

// forEach calls fn once for every member of any of rooms that is a member
// of none of except. A name that is no room is looked up with byID, which
// may return the client whose id it is (a client's id addresses it as a
// room, as in Socket.IO). fn runs under the rooms' read locks: it must not
// block or change membership.
//
// A client in several of the rooms is visited for the first of them only,
// found with the earlier rooms' indexes, so a selection allocates nothing
// however large it is. The shards of every room named are read-locked
// together, in ascending order (writers hold one shard at a time, so
// readers that lock in one order cannot deadlock).
func (r *roomRegistry) forEach(rooms, except []string, byID func(string) *Client, fn func(*Client)) {
	var mask uint64
	for _, name := range rooms {
		mask |= 1 << shardOf(name)
	}
	for _, name := range except {
		mask |= 1 << shardOf(name)
	}
	for m := mask; m != 0; m &= m - 1 {
		r.shards[bits.TrailingZeros64(m)].mu.RLock()
	}
	defer func() {
		for m := mask; m != 0; m &= m - 1 {
			r.shards[bits.TrailingZeros64(m)].mu.RUnlock()
		}
	}()
	lookup := func(name string) *room { return r.shards[shardOf(name)].rooms[name] }

	var skipRooms [8]*room
	var skipClients [4]*Client
	s := skipSet{rooms: skipRooms[:0], clients: skipClients[:0]} // excluded, then visited
	for _, name := range except {
		if rm := lookup(name); rm != nil {
			s.rooms = append(s.rooms, rm)
		} else if c := byID(name); c != nil {
			s.clients = append(s.clients, c)
		}
	}
	for _, name := range rooms {
		rm := lookup(name)
		if rm == nil {
			if c := byID(name); c != nil && !s.has(c) {
				fn(c)
				s.clients = append(s.clients, c)
			}
			continue
		}
		if slices.Contains(s.rooms, rm) {
			continue
		}
		for _, c := range rm.members {
			if !s.has(c) {
				fn(c)
			}
		}
		s.rooms = append(s.rooms, rm)
	}
}

// skipSet holds the rooms and single clients a selection skips.
type skipSet struct {
	rooms   []*room
	clients []*Client
}

func (s *skipSet) has(c *Client) bool {
	for _, rm := range s.rooms {
		if _, in := rm.indexOf(c); in {
			return true
		}
	}
	return len(s.clients) > 0 && slices.Contains(s.clients, c)
}

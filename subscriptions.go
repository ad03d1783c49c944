package realtime

import "iter"

// subscriptionSet maps a client's subscribed rooms to their channels. Most
// clients hold one or a few: a slice costs 32 bytes an entry where a map
// costs 300 bytes however few it holds, so positions are indexed by a map
// only past smallSubscriptionSet entries (a host may Join any number).
type subscriptionSet struct {
	list  []subscription
	index map[string]int // positions in list; nil for small sets
}

type subscription struct {
	room    string
	channel string // "" for rooms the host joined
}

const smallSubscriptionSet = 16

func (s *subscriptionSet) len() int { return len(s.list) }

func (s *subscriptionSet) find(room string) (int, bool) {
	if s.index != nil {
		i, ok := s.index[room]
		return i, ok
	}
	for i := range s.list {
		if s.list[i].room == room {
			return i, true
		}
	}
	return 0, false
}

func (s *subscriptionSet) has(room string) bool {
	_, ok := s.find(room)
	return ok
}

// set adds room, or changes its channel.
func (s *subscriptionSet) set(room, channel string) {
	if i, ok := s.find(room); ok {
		s.list[i].channel = channel
		return
	}
	s.list = append(s.list, subscription{room: room, channel: channel})
	switch {
	case s.index != nil:
		s.index[room] = len(s.list) - 1
	case len(s.list) > smallSubscriptionSet:
		s.index = make(map[string]int, len(s.list))
		for i := range s.list {
			s.index[s.list[i].room] = i
		}
	}
}

func (s *subscriptionSet) delete(room string) {
	i, ok := s.find(room)
	if !ok {
		return
	}
	last := len(s.list) - 1
	if i != last {
		s.list[i] = s.list[last]
		if s.index != nil {
			s.index[s.list[i].room] = i
		}
	}
	s.list[last] = subscription{}
	s.list = s.list[:last]
	if s.index != nil {
		delete(s.index, room)
		if len(s.list) <= smallSubscriptionSet/2 {
			s.index = nil
		}
	}
	if len(s.list) == 0 {
		s.list = nil
	}
}

// all yields every room and its channel, in no particular order. The set
// must not change during the iteration.
func (s *subscriptionSet) all() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, sub := range s.list {
			if !yield(sub.room, sub.channel) {
				return
			}
		}
	}
}
